// Path normalization, exactly as manifest/pathnorm specifies it (its package documentation is the
// algorithm; the shared runtime's pathnorm.js is the same decision table written for reading), in fewer
// bytes: the classes are regular expressions over one character instead of 256-entry tables. The input
// is the raw request-target path without the query; each character stands for one byte (a string with
// characters above 0xFF is read as its UTF-8 bytes). It returns the normalized path, or null for a path
// the reference refuses with 400.

export function normalize(raw) {
  // The common path is already normalized: non-empty segments of unreserved characters and raw
  // sub-delimiters, none of them "." or "..", and no escape. It is returned as it is, in one test.
  if (/^(?=\/)(\/(?!\.\.?(\/|$))[\w.~!$&'()*+,=:@-]+)*\/?$/.test(raw)) return raw;
  var s = /[^\x00-\xff]/.test(raw)
    ? encodeURIComponent(raw).replace(/%([\dA-F]{2})/g, (m, h) => String.fromCharCode(parseInt(h, 16)))
    : raw;
  if (s.charAt(0) !== "/") return null;
  var out = "/";
  var seg = 1; // where the current segment starts in out
  // end closes the current segment: "." is dropped, ".." drops the one before (false above the root), an
  // empty one collapses into the slash before it.
  function end(last) {
    var t = out.slice(seg);
    if (t === ".") out = out.slice(0, seg);
    else if (t === "..") {
      if (seg === 1) return false;
      out = out.slice(0, out.lastIndexOf("/", seg - 2) + 1);
      seg = out.length;
    } else if (t !== "" && !last) {
      out += "/";
      seg = out.length;
    }
    return true;
  }
  for (var i = 1; i < s.length; i++) {
    var c = s.charAt(i);
    var decoded = c === "%";
    if (decoded) {
      var hex = s.substr(i + 1, 2);
      if (!/^[\dA-Fa-f]{2}$/.test(hex)) return null; // malformed escape
      c = String.fromCharCode(parseInt(hex, 16));
      i += 2;
    }
    var x = c.charCodeAt(0);
    // control bytes, backslash, path parameters, overlong UTF-8 leads, and an encoded slash
    if (x < 32 || x === 127 || x === 192 || x === 193 || c === "\\" || c === ";" || (decoded && c === "/")) return null;
    if (c === "/") {
      if (!end(false)) return null;
    } else if (/[\w.~-]/.test(c) || (!decoded && /[!$&'()*+,=:@]/.test(c))) {
      // unreserved (decoded too), and raw sub-delimiters, as themselves; "%25" then two hex digits is a
      // double encoding
      if (/[\dA-Fa-f]/.test(c) && /%25[\dA-Fa-f]$/.test(out.slice(-4))) return null;
      out += c;
    } else {
      out += "%" + (x < 16 ? "0" : "") + x.toString(16).toUpperCase();
    }
  }
  return end(true) ? out : null;
}
