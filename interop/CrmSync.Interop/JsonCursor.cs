using System;
using System.Globalization;
using System.Text;

namespace CrmSync.Interop
{
    /// <summary>
    /// A forward-only reader over one JSON text (RFC 8259), for the library's documents: objects
    /// property by property, arrays element by element, strings, scalars as text, and any value
    /// skipped or taken as its raw text. No JSON library is referenced (the assembly targets
    /// netstandard2.0 and loads into Windows PowerShell 5.1 and PowerShell 7, whose own JSON
    /// assemblies differ), and reading straight into typed objects is what keeps a batch of a
    /// thousand items cheap. Malformed text throws <see cref="FormatException"/>.
    /// </summary>
    internal sealed class JsonCursor
    {
        private readonly string _s;
        private int _i;
        private readonly StringBuilder _sb = new StringBuilder();

        internal JsonCursor(string text)
        {
            if (text == null) throw new FormatException("No JSON document.");
            _s = text;
        }

        /// <summary>The next non-blank character, or '\0' at the end.</summary>
        internal char Peek()
        {
            while (_i < _s.Length && (_s[_i] == ' ' || _s[_i] == '\t' || _s[_i] == '\n' || _s[_i] == '\r')) _i++;
            return _i < _s.Length ? _s[_i] : '\0';
        }

        private void Expect(char c)
        {
            if (Peek() != c) throw Error("'" + c + "' expected");
            _i++;
        }

        private FormatException Error(string what)
        {
            return new FormatException("Invalid JSON at offset " + _i.ToString(CultureInfo.InvariantCulture) + ": " + what + ".");
        }

        /// <summary>Enters an object; then call <see cref="NextProperty"/> until it returns false.</summary>
        internal void BeginObject()
        {
            Expect('{');
            _first = true;
        }

        private bool _first;

        /// <summary>The next property's name (the cursor then stands on its value), or false at the object's end.</summary>
        internal bool NextProperty(out string name)
        {
            name = null;
            if (!Next('}')) return false;
            name = ReadString();
            Expect(':');
            return true;
        }

        // Past the separator before the next member, or past the closing character (false).
        private bool Next(char close)
        {
            char c = Peek();
            if (c == close) { _i++; _first = false; return false; }
            if (!_first)
            {
                if (c != ',') throw Error("',' or '" + close + "' expected");
                _i++;
            }
            _first = false;
            return true;
        }

        /// <summary>Enters an array; then call <see cref="NextElement"/> until it returns false.</summary>
        internal void BeginArray()
        {
            Expect('[');
            _first = true;
        }

        /// <summary>True when another element follows (the cursor then stands on it), false at the array's end.</summary>
        internal bool NextElement()
        {
            return Next(']');
        }

        /// <summary>True (and consumed) when the next value is null.</summary>
        internal bool TryNull()
        {
            if (Peek() == 'n' && string.CompareOrdinal(_s, _i, "null", 0, 4) == 0) { _i += 4; return true; }
            return false;
        }

        /// <summary>A string value; null for a JSON null.</summary>
        internal string ReadString()
        {
            if (TryNull()) return null;
            Expect('"');
            int start = _i;
            // Fast path: no escapes.
            while (_i < _s.Length && _s[_i] != '"' && _s[_i] != '\\') _i++;
            if (_i < _s.Length && _s[_i] == '"') return _s.Substring(start, _i++ - start);
            _sb.Clear();
            _sb.Append(_s, start, _i - start);
            while (_i < _s.Length)
            {
                char c = _s[_i++];
                if (c == '"') return _sb.ToString();
                if (c != '\\') { _sb.Append(c); continue; }
                if (_i >= _s.Length) break;
                char e = _s[_i++];
                switch (e)
                {
                    case '"': case '\\': case '/': _sb.Append(e); break;
                    case 'n': _sb.Append('\n'); break;
                    case 'r': _sb.Append('\r'); break;
                    case 't': _sb.Append('\t'); break;
                    case 'b': _sb.Append('\b'); break;
                    case 'f': _sb.Append('\f'); break;
                    case 'u':
                        int code;
                        if (_i + 4 > _s.Length || !int.TryParse(_s.Substring(_i, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out code)) throw Error("bad \\u escape");
                        _sb.Append((char)code);
                        _i += 4;
                        break;
                    default: throw Error("bad escape");
                }
            }
            throw Error("unterminated string");
        }

        /// <summary>A scalar as display text: strings as they are, numbers as written, "True"/"False", null for null; an object or array as its raw JSON.</summary>
        internal string ReadText()
        {
            char c = Peek();
            if (c == '"') return ReadString();
            if (TryNull()) return null;
            if (c == 't' && string.CompareOrdinal(_s, _i, "true", 0, 4) == 0) { _i += 4; return "True"; }
            if (c == 'f' && string.CompareOrdinal(_s, _i, "false", 0, 5) == 0) { _i += 5; return "False"; }
            if (c == '{' || c == '[') return ReadRaw();
            int start = _i;
            while (_i < _s.Length && (char.IsDigit(_s[_i]) || _s[_i] == '-' || _s[_i] == '+' || _s[_i] == '.' || _s[_i] == 'e' || _s[_i] == 'E')) _i++;
            if (_i == start) throw Error("a value expected");
            return _s.Substring(start, _i - start);
        }

        /// <summary>A boolean; null for a JSON null.</summary>
        internal bool? ReadBool()
        {
            string text = ReadText();
            if (text == null) return null;
            if (text == "True") return true;
            if (text == "False") return false;
            throw Error("true or false expected");
        }

        /// <summary>A number as a long; null for a JSON null.</summary>
        internal long? ReadLong()
        {
            string text = ReadText();
            if (text == null) return null;
            long n;
            if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out n)) throw Error("an integer expected");
            return n;
        }

        /// <summary>The next value's JSON text as it stands in the document.</summary>
        internal string ReadRaw()
        {
            Peek();
            int start = _i;
            SkipValue();
            return _s.Substring(start, _i - start);
        }

        /// <summary>Skips the next value, whatever it is.</summary>
        internal void SkipValue()
        {
            char c = Peek();
            if (c == '"') { ReadString(); return; }
            if (c == '{')
            {
                BeginObject();
                string name;
                while (NextProperty(out name)) SkipValue();
                return;
            }
            if (c == '[')
            {
                BeginArray();
                while (NextElement()) SkipValue();
                return;
            }
            ReadText();
        }

        /// <summary>Fails unless only blanks are left.</summary>
        internal void End()
        {
            if (Peek() != '\0') throw Error("text after the document");
        }
    }
}
