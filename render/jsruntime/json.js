// A strict JSON scanner (RFC 8259) that reads one object and reports its members with their raw text, as
// Go's encoding/json decoder sees them: the reference refuses duplicate members and trailing data, and
// forwards claims as written. Values are turned into JS values with JSON.parse on the raw text.

function isWS(c) {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

// scanObject reads text as one JSON object. It returns {members: [{name, raw}]}, or {error} with error
// "not object" (the first token is not "{" or cannot be read), "duplicate" or "syntax".
export function scanObject(text) {
  var i = 0;
  var n = text.length;
  function ws() {
    while (i < n && isWS(text.charCodeAt(i))) i++;
  }
  function fail(kind) {
    throw { scanError: kind };
  }
  function str() {
    // at '"'
    var start = i;
    i++;
    while (i < n) {
      var c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return text.slice(start, i);
      }
      if (c < 0x20) fail("syntax");
      if (c === 0x5c) {
        i++;
        var e = text.charAt(i);
        if (e === "u") {
          for (var k = 1; k <= 4; k++) {
            if (!/[0-9a-fA-F]/.test(text.charAt(i + k))) fail("syntax");
          }
          i += 5;
          continue;
        }
        if ("\"\\/bfnrt".indexOf(e) < 0 || e === "") fail("syntax");
      }
      i++;
    }
    fail("syntax");
  }
  function num() {
    var m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0].length === 0 || m[0] === "-") fail("syntax");
    i += m[0].length;
    if (m[0].length === 400) {
      // a very long number: consume the rest of its digits
      while (i < n && /[0-9eE.+-]/.test(text.charAt(i))) i++;
    }
  }
  function value(depth) {
    if (depth > 10000) fail("syntax");
    ws();
    if (i >= n) fail("syntax");
    var c = text.charAt(i);
    if (c === "{") return object(depth + 1, null);
    if (c === "[") {
      i++;
      ws();
      if (text.charAt(i) === "]") {
        i++;
        return;
      }
      for (;;) {
        value(depth + 1);
        ws();
        var d = text.charAt(i);
        i++;
        if (d === "]") return;
        if (d !== ",") fail("syntax");
      }
    }
    if (c === '"') {
      str();
      return;
    }
    if (c === "-" || (c >= "0" && c <= "9")) {
      num();
      return;
    }
    var lits = ["true", "false", "null"];
    for (var k = 0; k < lits.length; k++) {
      if (text.substr(i, lits[k].length) === lits[k]) {
        i += lits[k].length;
        return;
      }
    }
    fail("syntax");
  }
  function object(depth, members) {
    // at '{'
    i++;
    var seen = {};
    ws();
    if (text.charAt(i) === "}") {
      i++;
      return;
    }
    for (;;) {
      ws();
      if (text.charAt(i) !== '"') fail("syntax");
      var name = JSON.parse(str());
      if (Object.prototype.hasOwnProperty.call(seen, name)) fail("duplicate");
      seen[name] = true;
      ws();
      if (text.charAt(i) !== ":") fail("syntax");
      i++;
      ws();
      var start = i;
      value(depth);
      if (members) members.push({ name: name, raw: text.slice(start, i) });
      ws();
      var d = text.charAt(i);
      i++;
      if (d === "}") return;
      if (d !== ",") fail("syntax");
    }
  }
  ws();
  if (text.charAt(i) !== "{") return { error: "not object" };
  var members = [];
  try {
    object(1, members);
    ws();
    if (i !== n) return { error: "syntax" };
  } catch (e) {
    if (e && e.scanError) return { error: e.scanError };
    throw e;
  }
  return { members: members };
}

// member returns the raw text of the member named name, or undefined (the last one when repeated).
export function member(members, name) {
  var raw;
  for (var i = 0; i < members.length; i++) {
    if (members[i].name === name) raw = members[i].raw;
  }
  return raw;
}

// compact removes insignificant whitespace from raw JSON, as Go's json.Compact does.
export function compact(raw) {
  var out = "";
  var inStr = false;
  for (var i = 0; i < raw.length; i++) {
    var c = raw.charAt(i);
    if (inStr) {
      out += c;
      if (c === "\\") {
        out += raw.charAt(i + 1);
        i++;
      } else if (c === '"') inStr = false;
      continue;
    }
    if (c === '"') inStr = true;
    if (c === " " || c === "\t" || c === "\n" || c === "\r") continue;
    out += c;
  }
  return out;
}
