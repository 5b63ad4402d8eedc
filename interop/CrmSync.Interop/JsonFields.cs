using System;
using System.Globalization;
using System.Text;

namespace CrmSync.Interop
{
    /// <summary>
    /// Reads top-level scalar fields of a small JSON object (the error documents) without a JSON
    /// library dependency. Anything unexpected yields null: this only serves exception messages.
    /// </summary>
    internal static class JsonFields
    {
        internal static string GetString(string json, string name)
        {
            object v = Get(json, name);
            return v as string;
        }

        internal static int? GetInt(string json, string name)
        {
            NumberValue v = Get(json, name) as NumberValue;
            if (v == null) return null;
            int n;
            return int.TryParse(v.Text, NumberStyles.Integer, CultureInfo.InvariantCulture, out n) ? n : (int?)null;
        }

        private static object Get(string json, string name)
        {
            if (string.IsNullOrEmpty(json)) return null;
            try
            {
                int i = 0;
                SkipWs(json, ref i);
                if (i >= json.Length || json[i] != '{') return null;
                i++;
                while (true)
                {
                    SkipWs(json, ref i);
                    if (i >= json.Length) return null;
                    if (json[i] == '}') return null;
                    if (json[i] == ',') { i++; continue; }
                    string key = ReadString(json, ref i);
                    if (key == null) return null;
                    SkipWs(json, ref i);
                    if (i >= json.Length || json[i] != ':') return null;
                    i++;
                    SkipWs(json, ref i);
                    bool isNumber;
                    string value = ReadValue(json, ref i, out isNumber);
                    if (key == name)
                    {
                        if (isNumber) return value == null ? null : new NumberValue(value);
                        return value;
                    }
                }
            }
            catch (IndexOutOfRangeException)
            {
                return null;
            }
        }

        private sealed class NumberValue
        {
            internal NumberValue(string text) { Text = text; }
            internal string Text;
            public override string ToString() { return Text; }
        }

        private static void SkipWs(string s, ref int i)
        {
            while (i < s.Length && char.IsWhiteSpace(s[i])) i++;
        }

        private static string ReadString(string s, ref int i)
        {
            if (s[i] != '"') return null;
            i++;
            var sb = new StringBuilder();
            while (i < s.Length)
            {
                char c = s[i++];
                if (c == '"') return sb.ToString();
                if (c != '\\') { sb.Append(c); continue; }
                char e = s[i++];
                switch (e)
                {
                    case 'n': sb.Append('\n'); break;
                    case 'r': sb.Append('\r'); break;
                    case 't': sb.Append('\t'); break;
                    case 'b': sb.Append('\b'); break;
                    case 'f': sb.Append('\f'); break;
                    case 'u':
                        sb.Append((char)int.Parse(s.Substring(i, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                        i += 4;
                        break;
                    default: sb.Append(e); break;
                }
            }
            return null;
        }

        // Returns string values as-is, numbers as their text (isNumber = true), null for null and
        // for nested values (skipped).
        private static string ReadValue(string s, ref int i, out bool isNumber)
        {
            isNumber = false;
            char c = s[i];
            if (c == '"') return ReadString(s, ref i);
            if (c == '{' || c == '[')
            {
                int depth = 0;
                bool inString = false;
                for (; i < s.Length; i++)
                {
                    char d = s[i];
                    if (inString)
                    {
                        if (d == '\\') i++;
                        else if (d == '"') inString = false;
                        continue;
                    }
                    if (d == '"') inString = true;
                    else if (d == '{' || d == '[') depth++;
                    else if (d == '}' || d == ']')
                    {
                        depth--;
                        if (depth == 0) { i++; break; }
                    }
                }
                return null;
            }
            int start = i;
            while (i < s.Length && s[i] != ',' && s[i] != '}' && !char.IsWhiteSpace(s[i])) i++;
            string token = s.Substring(start, i - start);
            if (token == "null" || token == "true" || token == "false") return token == "null" ? null : token;
            isNumber = true;
            return token;
        }
    }
}
