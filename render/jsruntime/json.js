// A strict JSON scanner (RFC 8259) that reads one object and reports its members with their raw text, as
// Go's encoding/json decoder sees them: the reference refuses duplicate members and trailing data, and
// forwards claims as written. Values are turned into JS values with JSON.parse on the raw text.

// The scanner's state: one scan at a time (JavaScript runs one at a time), so no closures are built per
// call.
var T = "";
var I = 0;
var N = 0;

function fail(kind) {
  throw { scanError: kind };
}

function ws() {
  for (; I < N; I++) {
    var c = T.charCodeAt(I);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return;
  }
}

function isDigit(c) {
  return c >= 0x30 && c <= 0x39;
}

function digits() {
  while (isDigit(T.charCodeAt(I))) I++;
}

// str reads a string at '"' and reports whether it holds an escape.
function str() {
  var esc = false;
  I++;
  while (I < N) {
    var c = T.charCodeAt(I++);
    if (c === 0x22) return esc;
    if (c < 0x20) fail("syntax");
    if (c === 0x5c) {
      esc = true;
      var e = T.charAt(I++);
      if (e === "u") {
        if (!/^[0-9a-fA-F]{4}/.test(T.substr(I, 4))) fail("syntax");
        I += 4;
      } else if (e === "" || "\"\\/bfnrt".indexOf(e) < 0) fail("syntax");
    }
  }
  fail("syntax");
}

// num reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? (what follows is the caller's to check).
function num() {
  if (T.charCodeAt(I) === 0x2d) I++;
  var c = T.charCodeAt(I);
  if (!isDigit(c)) fail("syntax");
  I++;
  if (c !== 0x30) digits();
  if (T.charCodeAt(I) === 0x2e && isDigit(T.charCodeAt(I + 1))) {
    I++;
    digits();
  }
  var m = (T.charCodeAt(I) | 0x20) === 0x65 && /^.[+-]?[0-9]/.exec(T.substr(I, 3));
  if (m) {
    I += m[0].length;
    digits();
  }
}


function value(depth) {
  if (depth > 10000) fail("syntax");
  ws();
  var c = T.charCodeAt(I);
  if (c === 0x7b) return object(depth + 1, null);
  if (c === 0x5b) {
    I++;
    ws();
    if (T.charCodeAt(I) === 0x5d) {
      I++;
      return;
    }
    for (;;) {
      value(depth + 1);
      ws();
      c = T.charCodeAt(I++);
      if (c === 0x5d) return;
      if (c !== 0x2c) fail("syntax");
    }
  }
  if (c === 0x22) {
    str();
    return;
  }
  if (c === 0x2d || isDigit(c)) return num();
  var lit = c === 0x74 ? "true" : c === 0x66 ? "false" : "null";
  if (!T.startsWith(lit, I)) fail("syntax");
  I += lit.length;
}

// object reads an object at '{', refusing a duplicate member (names compared one by one up to 16 of them,
// then through an object, so a large object stays linear); members, when given, receives its members.
function object(depth, members) {
  I++;
  var names = [];
  var seen = null;
  ws();
  if (T.charCodeAt(I) === 0x7d) {
    I++;
    return;
  }
  for (;;) {
    ws();
    if (T.charCodeAt(I) !== 0x22) fail("syntax");
    var start = I;
    var name = str() ? JSON.parse(T.slice(start, I)) : T.slice(start + 1, I - 1);
    if (names.length < 16) {
      if (names.indexOf(name) >= 0) fail("duplicate");
    } else {
      if (seen === null) {
        seen = {};
        for (var k = 0; k < names.length; k++) seen["$" + names[k]] = true;
      }
      if (seen["$" + name] === true) fail("duplicate");
      seen["$" + name] = true;
    }
    names.push(name);
    ws();
    if (T.charCodeAt(I) !== 0x3a) fail("syntax");
    I++;
    ws();
    start = I;
    value(depth);
    if (members) members.push({ name: name, raw: T.slice(start, I) });
    ws();
    var c = T.charCodeAt(I++);
    if (c === 0x7d) return;
    if (c !== 0x2c) fail("syntax");
  }
}

// scanObject reads text as one JSON object. It returns {members: [{name, raw}]}, or {error} with error
// "not object" (the first token is not "{" or cannot be read), "duplicate" or "syntax".
export function scanObject(text) {
  T = text;
  I = 0;
  N = text.length;
  ws();
  if (T.charCodeAt(I) !== 0x7b) return { error: "not object" };
  var members = [];
  try {
    object(1, members);
    ws();
    if (I !== N) return { error: "syntax" };
  } catch (e) {
    if (e && e.scanError) return { error: e.scanError };
    throw e;
  } finally {
    T = "";
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
