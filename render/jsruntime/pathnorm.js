// Path normalization, exactly as manifest/pathnorm specifies it (its package documentation is the
// algorithm). The input is the raw request-target path without the query; each character stands for one
// byte (a string with characters above 0xFF is read as its UTF-8 bytes).
//
// Written in the subset every JavaScript target accepts (cloudfront-js-2.0: no ?., ??, spread or classes).

var UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
var RAW_SUB_DELIMS = "!$&'()*+,=:@";
var HEX = "0123456789ABCDEF";

var KEEP_ESCAPED = 0;
var KEEP_LITERAL = 1;
var END_SEGMENT = 2;
var DECODE_ESCAPE = 3;

var rawAction = [];
var decodedAction = [];
(function buildTables() {
  var i;
  for (i = 0; i < 256; i++) {
    rawAction[i] = KEEP_ESCAPED;
    decodedAction[i] = KEEP_ESCAPED;
    if (i < 0x20 || i === 0x7f) {
      rawAction[i] = "control byte";
      decodedAction[i] = "encoded control byte";
    }
  }
  for (i = 0; i < UNRESERVED.length; i++) {
    rawAction[UNRESERVED.charCodeAt(i)] = KEEP_LITERAL;
    decodedAction[UNRESERVED.charCodeAt(i)] = KEEP_LITERAL;
  }
  for (i = 0; i < RAW_SUB_DELIMS.length; i++) {
    rawAction[RAW_SUB_DELIMS.charCodeAt(i)] = KEEP_LITERAL;
  }
  rawAction[0x2f] = END_SEGMENT;
  rawAction[0x25] = DECODE_ESCAPE;
  rawAction[0x5c] = "raw backslash";
  rawAction[0x3b] = "path parameter";
  rawAction[0xc0] = "overlong utf-8";
  rawAction[0xc1] = "overlong utf-8";
  decodedAction[0x2f] = "encoded slash";
  decodedAction[0x5c] = "encoded backslash";
  decodedAction[0x3b] = "encoded path parameter";
  decodedAction[0x00] = "encoded nul byte";
  decodedAction[0xc0] = "overlong utf-8";
  decodedAction[0xc1] = "overlong utf-8";
})();

function unhex(c) {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

// toBytes returns the byte values of s: its char codes, or its UTF-8 encoding when a char is above 0xFF.
export function toBytes(s) {
  var out = [];
  var wide = false;
  var i;
  for (i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0xff) {
      wide = true;
      break;
    }
  }
  if (!wide) {
    for (i = 0; i < s.length; i++) out.push(s.charCodeAt(i));
    return out;
  }
  var u = unescape(encodeURIComponent(s));
  for (i = 0; i < u.length; i++) out.push(u.charCodeAt(i));
  return out;
}

// normalize returns {path} for an accepted path or {reject: reason}.
export function normalize(raw) {
  var b = toBytes(raw);
  if (b.length === 0 || b[0] !== 0x2f) return { reject: "not an absolute path" };
  var out = [0x2f];
  var seg = 1; // where the current segment starts in out
  var i, c, a;
  function endsWithPercent25Hex() {
    var n = out.length;
    return n >= 4 && out[n - 4] === 0x25 && out[n - 3] === 0x32 && out[n - 2] === 0x35 && unhex(out[n - 1]) >= 0;
  }
  // endSegment applies step 4; false means ".." above the root.
  function endSegment(last) {
    var n = out.length - seg;
    if (n === 1 && out[seg] === 0x2e) {
      out.length = seg;
      return true;
    }
    if (n === 2 && out[seg] === 0x2e && out[seg + 1] === 0x2e) {
      if (seg === 1) return false;
      var j = seg - 2;
      while (out[j] !== 0x2f) j--;
      out.length = j + 1;
      seg = j + 1;
      return true;
    }
    if (n === 0) return true;
    if (!last) {
      out.push(0x2f);
      seg = out.length;
    }
    return true;
  }
  for (i = 1; i < b.length; i++) {
    c = b[i];
    a = rawAction[c];
    if (a === DECODE_ESCAPE) {
      if (i + 2 >= b.length) return { reject: "malformed percent escape" };
      var h1 = unhex(b[i + 1]);
      var h2 = unhex(b[i + 2]);
      if (h1 < 0 || h2 < 0) return { reject: "malformed percent escape" };
      c = h1 * 16 + h2;
      a = decodedAction[c];
      i += 2;
    }
    if (a === KEEP_LITERAL) {
      if (unhex(c) >= 0 && endsWithPercent25Hex()) return { reject: "double encoding" };
      out.push(c);
    } else if (a === KEEP_ESCAPED) {
      out.push(0x25, HEX.charCodeAt(c >> 4), HEX.charCodeAt(c & 0xf));
    } else if (a === END_SEGMENT) {
      if (!endSegment(false)) return { reject: "above the root" };
    } else {
      return { reject: a };
    }
  }
  if (!endSegment(true)) return { reject: "above the root" };
  var s = "";
  for (i = 0; i < out.length; i++) s += String.fromCharCode(out[i]);
  return { path: s };
}
