using System;
using System.Globalization;

namespace CrmSync.Interop
{
    /// <summary>
    /// Reads top-level scalar fields of a small JSON object (the error documents). Anything
    /// unexpected yields null: this only serves exception messages.
    /// </summary>
    internal static class JsonFields
    {
        internal static string GetString(string json, string name)
        {
            return Get(json, name, false);
        }

        internal static int? GetInt(string json, string name)
        {
            string text = Get(json, name, true);
            int n;
            return text != null && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out n) ? n : (int?)null;
        }

        // A string field's value, or (number) a number field's text; null otherwise.
        private static string Get(string json, string name, bool number)
        {
            if (string.IsNullOrEmpty(json)) return null;
            try
            {
                var cursor = new JsonCursor(json);
                cursor.BeginObject();
                string key;
                while (cursor.NextProperty(out key))
                {
                    if (key != name) { cursor.SkipValue(); continue; }
                    char c = cursor.Peek();
                    bool isString = c == '"';
                    bool isNumber = c == '-' || char.IsDigit(c);
                    string value = cursor.ReadText();
                    return (number ? isNumber : isString) ? value : null;
                }
                return null;
            }
            catch (FormatException)
            {
                return null;
            }
        }
    }
}
