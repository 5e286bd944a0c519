# Fastly VCL for gateway edge-api-gateway, rendered by edgegw from the manifest: change the manifest, not this file.
# Requests are decided as the reference gateway decides them: path normalization, host, CORS
# preflight, route (IR order), auth, rate limit, then respond, redirect or proxy with failover.

# origin canary: https://api-canary.internal
backend F_canary {
  .host = "api-canary.internal";
  .port = "443";
  .ssl = true;
  .ssl_cert_hostname = "api-canary.internal";
  .ssl_sni_hostname = "api-canary.internal";
  .connect_timeout = 30000ms;
  .first_byte_timeout = 30000ms;
  .between_bytes_timeout = 30000ms;
}

# origin primary: https://api-origin.internal
backend F_primary {
  .host = "api-origin.internal";
  .port = "443";
  .ssl = true;
  .ssl_cert_hostname = "api-origin.internal";
  .ssl_sni_hostname = "api-origin.internal";
  .connect_timeout = 10000ms;
  .first_byte_timeout = 10000ms;
  .between_bytes_timeout = 10000ms;
  .probe = {
    .request = "GET /health HTTP/1.1" "Host: api-origin.internal" "User-Agent: edgegw-health-check" "Connection: close";
    .expected_response = 200;
    .interval = 10000ms;
    .timeout = 2000ms;
    .window = 3;
    .threshold = 1;
    .initial = 3;
  }
}

# origin secondary: https://api-origin-dr.internal
backend F_secondary {
  .host = "api-origin-dr.internal";
  .port = "443";
  .ssl = true;
  .ssl_cert_hostname = "api-origin-dr.internal";
  .ssl_sni_hostname = "api-origin-dr.internal";
  .connect_timeout = 30000ms;
  .first_byte_timeout = 30000ms;
  .between_bytes_timeout = 30000ms;
}

# rate limit per_subject: 100 requests per 1m0s by jwt.sub
ratecounter edgegw_rc_per_subject {}

# route -> pool
table edgegw_route_pool STRING {
  "3": "canary", # route v2-canary
  "4": "api", # route v2
  "5": "api", # route v1-user
  "6": "api", # route legacy
  "7": "api", # route default
}

# route -> auth policy
table edgegw_route_auth STRING {
  "3": "bearer", # route v2-canary
  "4": "bearer", # route v2
}

# route -> rate limit
table edgegw_route_limit STRING {
  "3": "per_subject", # route v2-canary
  "4": "per_subject", # route v2
}

# route -> matched prefix, for prefix rewrites
table edgegw_rewrite_from STRING {
  "4": "/v2", # route v2
}

# route -> upstream prefix, for prefix rewrites
table edgegw_rewrite_to STRING {
  "4": "/internal/v2", # route v2
}

# Path normalization (manifest/pathnorm): the one path routes match and the origin receives.
# Fails closed: 400 for encoded separators, NUL, control bytes, overlong UTF-8, double encoding,
# path parameters, dot segments above the root, and raw bytes outside ASCII.
# @scope: recv
sub edgegw_normalize_path {
  declare local var.p STRING;
  set var.p = regsub(req.url, "\?.*$", "");
  if (var.p !~ "^/") {
    set req.http.Edgegw-Error = "BAD_PATH";
    return;
  }
  # step 2: escapes that are malformed or stand for a byte that is refused
  if (var.p ~ {"%([^0-9A-Fa-f]|[0-9A-Fa-f][^0-9A-Fa-f]|[0-9A-Fa-f]?$)"}) {
    set req.http.Edgegw-Error = "BAD_PATH";
    return;
  }
  if (var.p ~ {"%(2[Ff]|5[Cc]|3[Bb]|[01][0-9A-Fa-f]|7[Ff]|[Cc][01])"}) {
    set req.http.Edgegw-Error = "BAD_PATH";
    return;
  }
  # raw backslash, path parameter, control bytes; raw bytes outside ASCII are refused rather than re-encoded
  if (var.p ~ "[\\;\x01-\x1f\x7f]|[^\x01-\x7f]") {
    set req.http.Edgegw-Error = "BAD_PATH";
    return;
  }
  # raw bytes that are not pchar are percent-encoded
  if (var.p ~ {"[ "<>\[\]^`{|}]"}) {
    set var.p = regsuball(var.p, " ", {"%20"});
    set var.p = regsuball(var.p, {"""}, {"%22"});
    set var.p = regsuball(var.p, "<", {"%3C"});
    set var.p = regsuball(var.p, ">", {"%3E"});
    set var.p = regsuball(var.p, "\[", {"%5B"});
    set var.p = regsuball(var.p, "\]", {"%5D"});
    set var.p = regsuball(var.p, "\^", {"%5E"});
    set var.p = regsuball(var.p, "`", {"%60"});
    set var.p = regsuball(var.p, "\{", {"%7B"});
    set var.p = regsuball(var.p, "\|", {"%7C"});
    set var.p = regsuball(var.p, "\}", {"%7D"});
  }
  if (var.p ~ {"%"}) {
    # escapes of unreserved bytes are decoded
    set var.p = regsuball(var.p, {"%2[Dd]"}, "-");
    set var.p = regsuball(var.p, {"%2[Ee]"}, ".");
    set var.p = regsuball(var.p, {"%30"}, "0");
    set var.p = regsuball(var.p, {"%31"}, "1");
    set var.p = regsuball(var.p, {"%32"}, "2");
    set var.p = regsuball(var.p, {"%33"}, "3");
    set var.p = regsuball(var.p, {"%34"}, "4");
    set var.p = regsuball(var.p, {"%35"}, "5");
    set var.p = regsuball(var.p, {"%36"}, "6");
    set var.p = regsuball(var.p, {"%37"}, "7");
    set var.p = regsuball(var.p, {"%38"}, "8");
    set var.p = regsuball(var.p, {"%39"}, "9");
    set var.p = regsuball(var.p, {"%41"}, "A");
    set var.p = regsuball(var.p, {"%42"}, "B");
    set var.p = regsuball(var.p, {"%43"}, "C");
    set var.p = regsuball(var.p, {"%44"}, "D");
    set var.p = regsuball(var.p, {"%45"}, "E");
    set var.p = regsuball(var.p, {"%46"}, "F");
    set var.p = regsuball(var.p, {"%47"}, "G");
    set var.p = regsuball(var.p, {"%48"}, "H");
    set var.p = regsuball(var.p, {"%49"}, "I");
    set var.p = regsuball(var.p, {"%4[Aa]"}, "J");
    set var.p = regsuball(var.p, {"%4[Bb]"}, "K");
    set var.p = regsuball(var.p, {"%4[Cc]"}, "L");
    set var.p = regsuball(var.p, {"%4[Dd]"}, "M");
    set var.p = regsuball(var.p, {"%4[Ee]"}, "N");
    set var.p = regsuball(var.p, {"%4[Ff]"}, "O");
    set var.p = regsuball(var.p, {"%50"}, "P");
    set var.p = regsuball(var.p, {"%51"}, "Q");
    set var.p = regsuball(var.p, {"%52"}, "R");
    set var.p = regsuball(var.p, {"%53"}, "S");
    set var.p = regsuball(var.p, {"%54"}, "T");
    set var.p = regsuball(var.p, {"%55"}, "U");
    set var.p = regsuball(var.p, {"%56"}, "V");
    set var.p = regsuball(var.p, {"%57"}, "W");
    set var.p = regsuball(var.p, {"%58"}, "X");
    set var.p = regsuball(var.p, {"%59"}, "Y");
    set var.p = regsuball(var.p, {"%5[Aa]"}, "Z");
    set var.p = regsuball(var.p, {"%5[Ff]"}, "_");
    set var.p = regsuball(var.p, {"%61"}, "a");
    set var.p = regsuball(var.p, {"%62"}, "b");
    set var.p = regsuball(var.p, {"%63"}, "c");
    set var.p = regsuball(var.p, {"%64"}, "d");
    set var.p = regsuball(var.p, {"%65"}, "e");
    set var.p = regsuball(var.p, {"%66"}, "f");
    set var.p = regsuball(var.p, {"%67"}, "g");
    set var.p = regsuball(var.p, {"%68"}, "h");
    set var.p = regsuball(var.p, {"%69"}, "i");
    set var.p = regsuball(var.p, {"%6[Aa]"}, "j");
    set var.p = regsuball(var.p, {"%6[Bb]"}, "k");
    set var.p = regsuball(var.p, {"%6[Cc]"}, "l");
    set var.p = regsuball(var.p, {"%6[Dd]"}, "m");
    set var.p = regsuball(var.p, {"%6[Ee]"}, "n");
    set var.p = regsuball(var.p, {"%6[Ff]"}, "o");
    set var.p = regsuball(var.p, {"%70"}, "p");
    set var.p = regsuball(var.p, {"%71"}, "q");
    set var.p = regsuball(var.p, {"%72"}, "r");
    set var.p = regsuball(var.p, {"%73"}, "s");
    set var.p = regsuball(var.p, {"%74"}, "t");
    set var.p = regsuball(var.p, {"%75"}, "u");
    set var.p = regsuball(var.p, {"%76"}, "v");
    set var.p = regsuball(var.p, {"%77"}, "w");
    set var.p = regsuball(var.p, {"%78"}, "x");
    set var.p = regsuball(var.p, {"%79"}, "y");
    set var.p = regsuball(var.p, {"%7[Aa]"}, "z");
    set var.p = regsuball(var.p, {"%7[Ee]"}, "~");
    # the other escapes are written in upper case
    set var.p = regsuball(var.p, {"%a([0-9A-Fa-f])"}, {"%A\1"});
    set var.p = regsuball(var.p, {"%([0-9A-F])a"}, {"%\1A"});
    set var.p = regsuball(var.p, {"%b([0-9A-Fa-f])"}, {"%B\1"});
    set var.p = regsuball(var.p, {"%([0-9A-F])b"}, {"%\1B"});
    set var.p = regsuball(var.p, {"%c([0-9A-Fa-f])"}, {"%C\1"});
    set var.p = regsuball(var.p, {"%([0-9A-F])c"}, {"%\1C"});
    set var.p = regsuball(var.p, {"%d([0-9A-Fa-f])"}, {"%D\1"});
    set var.p = regsuball(var.p, {"%([0-9A-F])d"}, {"%\1D"});
    set var.p = regsuball(var.p, {"%e([0-9A-Fa-f])"}, {"%E\1"});
    set var.p = regsuball(var.p, {"%([0-9A-F])e"}, {"%\1E"});
    set var.p = regsuball(var.p, {"%f([0-9A-Fa-f])"}, {"%F\1"});
    set var.p = regsuball(var.p, {"%([0-9A-F])f"}, {"%\1F"});
    # step 3: double encoding
    if (var.p ~ {"%25[0-9A-Fa-f][0-9A-Fa-f]"}) {
      set req.http.Edgegw-Error = "BAD_PATH";
      return;
    }
  }
  # step 4: empty and "." segments are dropped, then each ".." with the segment before it
  set var.p = regsuball(var.p, "/+", "/");
  set var.p = regsuball(var.p, "/\.(/\.)*(/|$)", "/");
  if (var.p ~ "/\.\.(/|$)") {
    if (var.p ~ "^/\.\.(/|$)") {
      set req.http.Edgegw-Error = "BAD_PATH";
      return;
    }
    set var.p = regsub(var.p, "^((?:/(?:[^./][^/]*|\.[^./][^/]*|\.\.[^/]+))*)/(?:[^./][^/]*|\.[^./][^/]*|\.\.[^/]+)/\.\.((?:/.*)?)$", "\1/\2");
    set var.p = regsuball(var.p, "//", "/");
  }
  if (var.p ~ "/\.\.(/|$)") {
    if (var.p ~ "^/\.\.(/|$)") {
      set req.http.Edgegw-Error = "BAD_PATH";
      return;
    }
    set var.p = regsub(var.p, "^((?:/(?:[^./][^/]*|\.[^./][^/]*|\.\.[^/]+))*)/(?:[^./][^/]*|\.[^./][^/]*|\.\.[^/]+)/\.\.((?:/.*)?)$", "\1/\2");
    set var.p = regsuball(var.p, "//", "/");
  }
  if (var.p ~ "/\.\.(/|$)") {
    if (var.p ~ "^/\.\.(/|$)") {
      set req.http.Edgegw-Error = "BAD_PATH";
      return;
    }
    set var.p = regsub(var.p, "^((?:/(?:[^./][^/]*|\.[^./][^/]*|\.\.[^/]+))*)/(?:[^./][^/]*|\.[^./][^/]*|\.\.[^/]+)/\.\.((?:/.*)?)$", "\1/\2");
    set var.p = regsuball(var.p, "//", "/");
  }
  if (var.p ~ "/\.\.(/|$)") {
    if (var.p ~ "^/\.\.(/|$)") {
      set req.http.Edgegw-Error = "BAD_PATH";
      return;
    }
    set var.p = regsub(var.p, "^((?:/(?:[^./][^/]*|\.[^./][^/]*|\.\.[^/]+))*)/(?:[^./][^/]*|\.[^./][^/]*|\.\.[^/]+)/\.\.((?:/.*)?)$", "\1/\2");
    set var.p = regsuball(var.p, "//", "/");
  }
  if (var.p ~ "/\.\.(/|$)") {
    if (var.p ~ "^/\.\.(/|$)") {
      set req.http.Edgegw-Error = "BAD_PATH";
      return;
    }
    set var.p = regsub(var.p, "^((?:/(?:[^./][^/]*|\.[^./][^/]*|\.\.[^/]+))*)/(?:[^./][^/]*|\.[^./][^/]*|\.\.[^/]+)/\.\.((?:/.*)?)$", "\1/\2");
    set var.p = regsuball(var.p, "//", "/");
  }
  if (var.p ~ "/\.\.(/|$)") {
    if (var.p ~ "^/\.\.(/|$)") {
      set req.http.Edgegw-Error = "BAD_PATH";
      return;
    }
    set var.p = regsub(var.p, "^((?:/(?:[^./][^/]*|\.[^./][^/]*|\.\.[^/]+))*)/(?:[^./][^/]*|\.[^./][^/]*|\.\.[^/]+)/\.\.((?:/.*)?)$", "\1/\2");
    set var.p = regsuball(var.p, "//", "/");
  }
  if (var.p ~ "/\.\.(/|$)") {
    if (var.p ~ "^/\.\.(/|$)") {
      set req.http.Edgegw-Error = "BAD_PATH";
      return;
    }
    set var.p = regsub(var.p, "^((?:/(?:[^./][^/]*|\.[^./][^/]*|\.\.[^/]+))*)/(?:[^./][^/]*|\.[^./][^/]*|\.\.[^/]+)/\.\.((?:/.*)?)$", "\1/\2");
    set var.p = regsuball(var.p, "//", "/");
  }
  if (var.p ~ "/\.\.(/|$)") {
    if (var.p ~ "^/\.\.(/|$)") {
      set req.http.Edgegw-Error = "BAD_PATH";
      return;
    }
    set var.p = regsub(var.p, "^((?:/(?:[^./][^/]*|\.[^./][^/]*|\.\.[^/]+))*)/(?:[^./][^/]*|\.[^./][^/]*|\.\.[^/]+)/\.\.((?:/.*)?)$", "\1/\2");
    set var.p = regsuball(var.p, "//", "/");
  }
  if (var.p ~ "/\.\.(/|$)") {
    if (var.p ~ "^/\.\.(/|$)") {
      set req.http.Edgegw-Error = "BAD_PATH";
      return;
    }
    set var.p = regsub(var.p, "^((?:/(?:[^./][^/]*|\.[^./][^/]*|\.\.[^/]+))*)/(?:[^./][^/]*|\.[^./][^/]*|\.\.[^/]+)/\.\.((?:/.*)?)$", "\1/\2");
    set var.p = regsuball(var.p, "//", "/");
  }
  if (var.p ~ "/\.\.(/|$)") {
    if (var.p ~ "^/\.\.(/|$)") {
      set req.http.Edgegw-Error = "BAD_PATH";
      return;
    }
    set var.p = regsub(var.p, "^((?:/(?:[^./][^/]*|\.[^./][^/]*|\.\.[^/]+))*)/(?:[^./][^/]*|\.[^./][^/]*|\.\.[^/]+)/\.\.((?:/.*)?)$", "\1/\2");
    set var.p = regsuball(var.p, "//", "/");
  }
  if (var.p ~ "/\.\.(/|$)") {
    if (var.p ~ "^/\.\.(/|$)") {
      set req.http.Edgegw-Error = "BAD_PATH";
      return;
    }
    set var.p = regsub(var.p, "^((?:/(?:[^./][^/]*|\.[^./][^/]*|\.\.[^/]+))*)/(?:[^./][^/]*|\.[^./][^/]*|\.\.[^/]+)/\.\.((?:/.*)?)$", "\1/\2");
    set var.p = regsuball(var.p, "//", "/");
  }
  if (var.p ~ "/\.\.(/|$)") {
    if (var.p ~ "^/\.\.(/|$)") {
      set req.http.Edgegw-Error = "BAD_PATH";
      return;
    }
    set var.p = regsub(var.p, "^((?:/(?:[^./][^/]*|\.[^./][^/]*|\.\.[^/]+))*)/(?:[^./][^/]*|\.[^./][^/]*|\.\.[^/]+)/\.\.((?:/.*)?)$", "\1/\2");
    set var.p = regsuball(var.p, "//", "/");
  }
  if (var.p ~ "/\.\.(/|$)") {
    if (var.p ~ "^/\.\.(/|$)") {
      set req.http.Edgegw-Error = "BAD_PATH";
      return;
    }
    set var.p = regsub(var.p, "^((?:/(?:[^./][^/]*|\.[^./][^/]*|\.\.[^/]+))*)/(?:[^./][^/]*|\.[^./][^/]*|\.\.[^/]+)/\.\.((?:/.*)?)$", "\1/\2");
    set var.p = regsuball(var.p, "//", "/");
  }
  if (var.p ~ "/\.\.(/|$)") {
    if (var.p ~ "^/\.\.(/|$)") {
      set req.http.Edgegw-Error = "BAD_PATH";
      return;
    }
    set var.p = regsub(var.p, "^((?:/(?:[^./][^/]*|\.[^./][^/]*|\.\.[^/]+))*)/(?:[^./][^/]*|\.[^./][^/]*|\.\.[^/]+)/\.\.((?:/.*)?)$", "\1/\2");
    set var.p = regsuball(var.p, "//", "/");
  }
  if (var.p ~ "/\.\.(/|$)") {
    if (var.p ~ "^/\.\.(/|$)") {
      set req.http.Edgegw-Error = "BAD_PATH";
      return;
    }
    set var.p = regsub(var.p, "^((?:/(?:[^./][^/]*|\.[^./][^/]*|\.\.[^/]+))*)/(?:[^./][^/]*|\.[^./][^/]*|\.\.[^/]+)/\.\.((?:/.*)?)$", "\1/\2");
    set var.p = regsuball(var.p, "//", "/");
  }
  if (var.p ~ "/\.\.(/|$)") {
    if (var.p ~ "^/\.\.(/|$)") {
      set req.http.Edgegw-Error = "BAD_PATH";
      return;
    }
    set var.p = regsub(var.p, "^((?:/(?:[^./][^/]*|\.[^./][^/]*|\.\.[^/]+))*)/(?:[^./][^/]*|\.[^./][^/]*|\.\.[^/]+)/\.\.((?:/.*)?)$", "\1/\2");
    set var.p = regsuball(var.p, "//", "/");
  }
  if (var.p ~ "/\.\.(/|$)") {
    # more dot-dot segments than this VCL resolves
    set req.http.Edgegw-Error = "BAD_PATH";
    return;
  }
  set req.http.Edgegw-Path = var.p;
}

# Route selection: the first route in IR order whose match holds.
# @scope: recv
sub edgegw_route {
  declare local var.p STRING;
  declare local var.best INTEGER;
  set var.p = req.http.Edgegw-Path;
  set var.best = 1000000;
  # a header sent several times is matched on any of its values
  std.collect(req.http.X-Canary-Release);
  # route health (exact /health)
  if (var.p == "/health") {
    set req.http.Edgegw-Route = "1";
  # route docs (prefix /docs)
  } elsif (var.p ~ "^/docs(/|$)" && (req.http.Edgegw-Host == "example.com")) {
    set req.http.Edgegw-Route = "2";
  # route v2-canary (prefix /v2)
  } elsif (var.p ~ "^/v2(/|$)" && req.http.X-Canary-Release ~ "(^|, )true(, |$)") {
    set req.http.Edgegw-Route = "3";
  # route v2 (prefix /v2)
  } elsif (var.p ~ "^/v2(/|$)") {
    set req.http.Edgegw-Route = "4";
  # route v1-user (template /v1/users/{id})
  } elsif (var.p ~ "^/v1/users/([^/]+)$" && (req.method == "GET")) {
    set req.http.Edgegw-Route = "5";
  # route legacy (regex ^/v0/[a-z]+$)
  } elsif (var.p ~ "^(?:^/v0/[a-z]+$)$") {
    set req.http.Edgegw-Route = "6";
  # route default (fallback)
  } elsif (true) {
    set req.http.Edgegw-Route = "7";
  }
}

# Auth policy bearer: JWT RS256, ES256
# @scope: recv
sub edgegw_auth_bearer {
  declare local var.tok STRING;
  declare local var.h STRING;
  declare local var.pl STRING;
  declare local var.s STRING;
  declare local var.hdr STRING;
  declare local var.body STRING;
  declare local var.alg STRING;
  declare local var.kid STRING;
  declare local var.signed STRING;
  declare local var.pem STRING;
  declare local var.found BOOL;
  declare local var.ok BOOL;
  declare local var.now INTEGER;
  declare local var.t INTEGER;
  # several Authorization headers become one list, which is not a token (malformed), as in jwtverify
  std.collect(req.http.Authorization);
  if (!req.http.Authorization) {
    set req.http.Edgegw-Error = "JWT_MISSING";
    return;
  }
  if (req.http.Authorization ~ "^[ \t]*[Bb][Ee][Aa][Rr][Ee][Rr][ \t]*$") {
    set req.http.Edgegw-Error = "JWT_MALFORMED";
    return;
  }
  if (req.http.Authorization !~ "^[Bb][Ee][Aa][Rr][Ee][Rr] (.*)$") {
    set req.http.Edgegw-Error = "JWT_MISSING";
    return;
  }
  set var.tok = regsub(re.group.1, "^ +", "");
  if (var.tok == "") {
    set req.http.Edgegw-Error = "JWT_MALFORMED";
    return;
  }
  if (std.strlen(var.tok) > 8192) {
    set req.http.Edgegw-Error = "JWT_TOO_LARGE";
    return;
  }
  # three parts, each strict base64url (no padding, no stray bits)
  if (var.tok !~ "^((?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-][AQgw]|[A-Za-z0-9_-]{2}[AEIMQUYcgkosw048])?)\.((?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-][AQgw]|[A-Za-z0-9_-]{2}[AEIMQUYcgkosw048])?)\.((?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-][AQgw]|[A-Za-z0-9_-]{2}[AEIMQUYcgkosw048])?)$") {
    set req.http.Edgegw-Error = "JWT_MALFORMED";
    return;
  }
  set var.h = re.group.1;
  set var.pl = re.group.2;
  set var.s = re.group.3;
  set var.signed = var.h + "." + var.pl;
  set var.hdr = digest.base64url_nopad_decode(var.h);
  if (var.hdr !~ "^[ \t\r\n]*\{[\s\S]*\}[ \t\r\n]*$") {
    set req.http.Edgegw-Error = "JWT_MALFORMED";
    return;
  }
  # one of each member, no embedded or referenced keys, no crit or b64
  if (var.hdr ~ {""alg"[ \t\r\n]*:[\s\S]*"alg"[ \t\r\n]*:"}) {
    set req.http.Edgegw-Error = "JWT_UNSUPPORTED";
    return;
  }
  if (var.hdr ~ {""kid"[ \t\r\n]*:[\s\S]*"kid"[ \t\r\n]*:"}) {
    set req.http.Edgegw-Error = "JWT_UNSUPPORTED";
    return;
  }
  if (var.hdr ~ {""typ"[ \t\r\n]*:[\s\S]*"typ"[ \t\r\n]*:"}) {
    set req.http.Edgegw-Error = "JWT_UNSUPPORTED";
    return;
  }
  if (var.hdr ~ {""crit"[ \t\r\n]*:[\s\S]*"crit"[ \t\r\n]*:"}) {
    set req.http.Edgegw-Error = "JWT_UNSUPPORTED";
    return;
  }
  if (var.hdr ~ {""b64"[ \t\r\n]*:[\s\S]*"b64"[ \t\r\n]*:"}) {
    set req.http.Edgegw-Error = "JWT_UNSUPPORTED";
    return;
  }
  if (var.hdr ~ {""(jwk|jku|x5u|x5c)"[ \t\r\n]*:"}) {
    set req.http.Edgegw-Error = "JWT_UNSUPPORTED";
    return;
  }
  if (var.hdr !~ {""alg"[ \t\r\n]*:"}) {
    set req.http.Edgegw-Error = "JWT_ALG";
    return;
  }
  if (var.hdr !~ {""alg"[ \t\r\n]*:[ \t\r\n]*"([^"\\]*)""}) {
    set req.http.Edgegw-Error = "JWT_UNSUPPORTED";
    return;
  }
  set var.alg = re.group.1;
  if (!(var.alg == "RS256" || var.alg == "ES256")) {
    set req.http.Edgegw-Error = "JWT_ALG";
    return;
  }
  if (var.hdr ~ {""(crit|b64)"[ \t\r\n]*:"}) {
    set req.http.Edgegw-Error = "JWT_UNSUPPORTED";
    return;
  }
  set var.kid = "";
  if (var.hdr ~ {""kid"[ \t\r\n]*:"}) {
    if (var.hdr !~ {""kid"[ \t\r\n]*:[ \t\r\n]*"([^"\\]*)""}) {
      set req.http.Edgegw-Error = "JWT_UNSUPPORTED";
      return;
    }
    set var.kid = re.group.1;
  }
  set var.found = false;
  set var.ok = false;
  if (var.alg == "RS256") {
    # keys of https://auth.example.com/.well-known/jwks.json, kept in an edge dictionary by the provider
    if (!var.ok && var.kid != "") {
      set var.pem = table.lookup(edgegw_jwks_bearer, var.kid + "/RS256", "");
      if (var.pem != "") {
        set var.found = true;
        if (digest.rsa_verify(sha256, var.pem, var.signed, var.s, url_nopad)) {
          set var.ok = true;
        }
      }
    }
  }
  if (var.alg == "ES256") {
    # keys of https://auth.example.com/.well-known/jwks.json, kept in an edge dictionary by the provider
    if (!var.ok && var.kid != "") {
      set var.pem = table.lookup(edgegw_jwks_bearer, var.kid + "/ES256", "");
      if (var.pem != "") {
        set var.found = true;
        if (digest.ecdsa_verify(sha256, var.pem, var.signed, var.s, jwt, url_nopad)) {
          set var.ok = true;
        }
      }
    }
  }
  if (!var.found) {
    set req.http.Edgegw-Error = "JWT_KEY";
    return;
  }
  if (!var.ok) {
    set req.http.Edgegw-Error = "JWT_SIGNATURE";
    return;
  }
  set req.http.Edgegw-Jwt-Verified = "1";
  # claims
  set var.body = digest.base64url_nopad_decode(var.pl);
  if (var.body !~ "^[ \t\r\n]*\{[\s\S]*\}[ \t\r\n]*$") {
    set req.http.Edgegw-Error = "JWT_UNSUPPORTED";
    return;
  }
  if (var.body ~ {""exp"[ \t\r\n]*:[\s\S]*"exp"[ \t\r\n]*:"}) {
    set req.http.Edgegw-Error = "JWT_UNSUPPORTED";
    return;
  }
  if (var.body ~ {""nbf"[ \t\r\n]*:[\s\S]*"nbf"[ \t\r\n]*:"}) {
    set req.http.Edgegw-Error = "JWT_UNSUPPORTED";
    return;
  }
  if (var.body ~ {""iat"[ \t\r\n]*:[\s\S]*"iat"[ \t\r\n]*:"}) {
    set req.http.Edgegw-Error = "JWT_UNSUPPORTED";
    return;
  }
  if (var.body ~ {""sub"[ \t\r\n]*:[\s\S]*"sub"[ \t\r\n]*:"}) {
    set req.http.Edgegw-Error = "JWT_UNSUPPORTED";
    return;
  }
  if (var.body ~ {""iss"[ \t\r\n]*:[\s\S]*"iss"[ \t\r\n]*:"}) {
    set req.http.Edgegw-Error = "JWT_UNSUPPORTED";
    return;
  }
  if (var.body ~ {""aud"[ \t\r\n]*:[\s\S]*"aud"[ \t\r\n]*:"}) {
    set req.http.Edgegw-Error = "JWT_UNSUPPORTED";
    return;
  }
  set var.now = std.atoi(now.sec);
  if (var.body !~ {""exp"[ \t\r\n]*:"}) {
    set req.http.Edgegw-Error = "JWT_EXPIRED";
    return;
  }
  if (var.body !~ {""exp"[ \t\r\n]*:[ \t\r\n]*(-?[0-9]+)(\.[0-9]+)?[ \t\r\n]*[,}]"}) {
    set req.http.Edgegw-Error = "JWT_CLAIMS";
    return;
  }
  set var.t = std.atoi(re.group.1);
  set var.t += 30;
  if (var.now >= var.t) {
    set req.http.Edgegw-Error = "JWT_EXPIRED";
    return;
  }
  if (var.body ~ {""nbf"[ \t\r\n]*:"}) {
    if (var.body !~ {""nbf"[ \t\r\n]*:[ \t\r\n]*(-?[0-9]+)(\.[0-9]+)?[ \t\r\n]*[,}]"}) {
      set req.http.Edgegw-Error = "JWT_CLAIMS";
      return;
    }
    set var.t = std.atoi(re.group.1);
    set var.t -= 30;
    if (var.now < var.t) {
      set req.http.Edgegw-Error = "JWT_NOT_YET_VALID";
      return;
    }
  }
  if (var.body ~ {""iat"[ \t\r\n]*:"}) {
    if (var.body !~ {""iat"[ \t\r\n]*:[ \t\r\n]*(-?[0-9]+)(\.[0-9]+)?[ \t\r\n]*[,}]"}) {
      set req.http.Edgegw-Error = "JWT_CLAIMS";
      return;
    }
    set var.t = std.atoi(re.group.1);
    set var.t -= 30;
    if (var.now < var.t) {
      set req.http.Edgegw-Error = "JWT_NOT_YET_VALID";
      return;
    }
  }
  if (var.body ~ {""sub"[ \t\r\n]*:"}) {
    if (var.body !~ {""sub"[ \t\r\n]*:[ \t\r\n]*"([^"\\]*)""}) {
      set req.http.Edgegw-Error = "JWT_CLAIMS";
      return;
    }
    set req.http.Edgegw-Sub = re.group.1;
  }
  if (var.body !~ {""iss"[ \t\r\n]*:[ \t\r\n]*"https://auth\.example\.com/""}) {
    set req.http.Edgegw-Error = "JWT_ISSUER";
    return;
  }
  if (var.body !~ {""aud"[ \t\r\n]*:[ \t\r\n]*(?:"(?:api)"|\[[^\]]*"(?:api)"[^\]]*\])"}) {
    set req.http.Edgegw-Error = "JWT_AUDIENCE";
    return;
  }
  if (var.body !~ {""sub"[ \t\r\n]*:"} || var.body ~ {""sub"[ \t\r\n]*:[ \t\r\n]*null"}) {
    set req.http.Edgegw-Error = "JWT_CLAIMS";
    return;
  }
  # forwarded upstream in X-User-Id
  set req.http.Edgegw-Claim-0 = req.http.Edgegw-Sub;
}

# Rate limit per_subject: 100 requests per 1m0s by jwt.sub. Fastly's buckets count in 10s steps at every POP
# (Edge Rate Limiting must be enabled on the account); a request without the key counts by client IP.
# @scope: recv
sub edgegw_limit_per_subject {
  declare local var.key STRING;
  if (req.http.Edgegw-Sub) {
    set var.key = "sub:" + req.http.Edgegw-Sub;
  } else {
    set var.key = "ip:" + client.ip;
  }
  declare local var.count INTEGER;
  set var.count = ratelimit.ratecounter_increment(edgegw_rc_per_subject, var.key, 1);
  if (ratecounter.edgegw_rc_per_subject.bucket.60s > 100) {
    set req.http.Edgegw-Retry-After = "60";
    set req.http.Edgegw-Error = "RATE_LIMIT";
    return;
  }
}

# One request, first pass: normalize, host, CORS preflight, route, auth, limit, then the action.
# @scope: recv
sub edgegw_request {
  declare local var.r STRING;
  declare local var.host STRING;
  call edgegw_normalize_path;
  if (req.http.Edgegw-Error) {
    return;
  }
  # host: lower case, without port and trailing dot
  set req.http.Edgegw-Public-Host = req.http.Host;
  set var.host = std.tolower(req.http.Host);
  set var.host = regsub(var.host, ":[0-9]*$", "");
  set var.host = regsub(var.host, "\.$", "");
  set req.http.Edgegw-Host = var.host;
  if (req.http.Edgegw-Host == "api.example.com") {
    set req.http.Edgegw-Domain = "0";
  } elsif (req.http.Edgegw-Host == "example.com") {
    set req.http.Edgegw-Domain = "1";
  } elsif (req.http.Edgegw-Host ~ "^[^.]+\.api\.example\.com$") {
    set req.http.Edgegw-Domain = "2";
    set req.http.Edgegw-Tenant = regsub(var.host, "\..*$", "");
  } else {
    set req.http.Edgegw-Error = "HOST_UNKNOWN";
    return;
  }
  # CORS: an allowed Origin gets the CORS headers; a preflight is answered here
  if (req.http.Origin && (req.http.Origin == "https://app.example.com")) {
    set req.http.Edgegw-Cors-Origin = req.http.Origin;
  }
  if (req.method == "OPTIONS" && req.http.Origin && req.http.Access-Control-Request-Method) {
    set req.http.Edgegw-Action = "preflight";
    return;
  }
  call edgegw_route;
  if (!req.http.Edgegw-Route) {
    set req.http.Edgegw-Error = "NO_ROUTE";
    return;
  }
  set var.r = req.http.Edgegw-Route;
  # auth
  if (table.lookup(edgegw_route_auth, var.r, "") == "bearer") {
    call edgegw_auth_bearer;
  }
  if (req.http.Edgegw-Error) {
    return;
  }
  # rate limit
  if (table.lookup(edgegw_route_limit, var.r, "") == "per_subject") {
    call edgegw_limit_per_subject;
  }
  if (req.http.Edgegw-Error) {
    return;
  }
  if (var.r == "1") {
    set req.http.Edgegw-Action = "respond";
    return;
  }
  if (var.r == "2") {
    set req.http.Edgegw-Action = "redirect";
    return;
  }
  # proxy: the upstream path is the normalized path after the route's rewrite; the query goes as sent
  set req.http.Edgegw-Action = "proxy";
  set req.http.Edgegw-Pool = table.lookup(edgegw_route_pool, var.r, "");
  set req.http.Edgegw-Upstream = req.http.Edgegw-Path;
  if (req.url ~ "\?") {
    set req.http.Edgegw-Query = regsub(req.url, "^[^?]*", "");
  } else {
    set req.http.Edgegw-Query = "";
  }
  declare local var.from STRING;
  declare local var.to STRING;
  declare local var.rest STRING;
  set var.from = table.lookup(edgegw_rewrite_from, var.r, "");
  if (var.from != "") {
    # prefix rewrite: the matched prefix is replaced, with one "/" between the parts
    set var.to = table.lookup(edgegw_rewrite_to, var.r, "");
    set var.rest = substr(req.http.Edgegw-Path, std.strlen(var.from));
    if (var.rest == "") {
      set req.http.Edgegw-Upstream = var.to;
    }
    elsif (var.to ~ "/$" && var.rest ~ "^/") {
      set req.http.Edgegw-Upstream = var.to + regsub(var.rest, "^/", "");
    }
    elsif (var.to !~ "/$" && var.rest !~ "^/") {
      set req.http.Edgegw-Upstream = var.to + "/" + var.rest;
    }
    else {
      set req.http.Edgegw-Upstream = var.to + var.rest;
    }
  }
  call edgegw_transform;
  # X-Forwarded-*, as the reference proxy sets them: the client's own values are replaced
  set req.http.X-Forwarded-For = client.ip;
  set req.http.X-Forwarded-Host = req.http.Edgegw-Public-Host;
  if (req.is_ssl) {
    set req.http.X-Forwarded-Proto = "https";
  } else {
    set req.http.X-Forwarded-Proto = "http";
  }
  # the pool's candidates: healthy origins in order, or every origin when none is healthy. An origin that
  # cannot be reached or times out always goes to the next (vcl_error); a status only as failover lists.
  set req.http.Edgegw-Candidates = "";
  if (req.http.Edgegw-Pool == "api") {
    if (backend.F_primary.healthy) {
      set req.http.Edgegw-Candidates = req.http.Edgegw-Candidates + "primary,";
    }
    if (backend.F_secondary.healthy) {
      set req.http.Edgegw-Candidates = req.http.Edgegw-Candidates + "secondary,";
    }
    if (req.http.Edgegw-Candidates !~ ".") {
      set req.http.Edgegw-Candidates = "primary,secondary,";
    }
    # breaker (3 x [504], 30s): not enforced here; VCL keeps no per-origin state between requests
  }
  if (req.http.Edgegw-Pool == "canary") {
    if (backend.F_canary.healthy) {
      set req.http.Edgegw-Candidates = req.http.Edgegw-Candidates + "canary,";
    }
    if (backend.F_primary.healthy) {
      set req.http.Edgegw-Candidates = req.http.Edgegw-Candidates + "primary,";
    }
    if (req.http.Edgegw-Candidates !~ ".") {
      set req.http.Edgegw-Candidates = "canary,primary,";
    }
  }
}

# Upstream headers (gateway.transformUpstreamHeader): strip, transform, request id, tenant, claims.
# @scope: recv
sub edgegw_transform {
  unset req.http.X-Tenant-Id;
  unset req.http.X-User-Id;
  unset req.http.X-Internal-Debug;
  set req.http.X-Forwarded-By = "edge-gateway";
  set req.http.X-Request-Id = uuid.version4();
  if (req.http.Edgegw-Domain == "2" && req.http.Edgegw-Tenant) {
    set req.http.X-Tenant-Id = req.http.Edgegw-Tenant;
  }
  if (table.lookup(edgegw_route_auth, req.http.Edgegw-Route, "") == "bearer") {
    if (req.http.Edgegw-Claim-0) {
      set req.http.X-User-Id = req.http.Edgegw-Claim-0;
    }
  }
}

# The next candidate origin of the pool; the upstream URL is its base path, the upstream path, the query.
# @scope: recv
sub edgegw_pick {
  set req.http.Edgegw-Origin = regsub(req.http.Edgegw-Candidates, ",.*$", "");
  set req.http.Edgegw-Candidates = regsub(req.http.Edgegw-Candidates, "^[^,]*,", "");
  if (req.http.Edgegw-Origin == "canary") {
    set req.backend = F_canary;
    set req.url = req.http.Edgegw-Upstream + req.http.Edgegw-Query;
    set req.http.Host = "api-canary.internal";
  }
  elsif (req.http.Edgegw-Origin == "primary") {
    set req.backend = F_primary;
    set req.url = req.http.Edgegw-Upstream + req.http.Edgegw-Query;
    set req.http.Host = "api-origin.internal";
  }
  elsif (req.http.Edgegw-Origin == "secondary") {
    set req.backend = F_secondary;
    set req.url = req.http.Edgegw-Upstream + req.http.Edgegw-Query;
    set req.http.Host = "api-origin-dr.internal";
  }
}

# The edge's own answers, byte for byte the IR's error table.
# @scope: error
sub edgegw_edge_error {
  if (req.http.Edgegw-Error == "BAD_PATH") {
    set obj.status = 400;
    set obj.response = "Bad Request";
    set obj.http.Cache-Control = "no-store";
    set obj.http.Content-Type = "application/json";
    set obj.http.X-Content-Type-Options = "nosniff";
    synthetic {json"{"status":400,"code":"BAD_PATH","message":"Bad Request"}
"json};
  }
  elsif (req.http.Edgegw-Error == "HOST_UNKNOWN") {
    set obj.status = 404;
    set obj.response = "Not Found";
    set obj.http.Cache-Control = "no-store";
    set obj.http.Content-Type = "application/json";
    set obj.http.X-Content-Type-Options = "nosniff";
    synthetic {json"{"status":404,"code":"HOST_UNKNOWN","message":"Not Found"}
"json};
  }
  elsif (req.http.Edgegw-Error == "JWT_ALG") {
    set obj.status = 403;
    set obj.response = "Forbidden";
    set obj.http.Cache-Control = "no-store";
    set obj.http.Content-Type = "application/json";
    set obj.http.Www-Authenticate = {"Bearer realm="edge-api-gateway", error="invalid_token""};
    set obj.http.X-Content-Type-Options = "nosniff";
    synthetic {json"{"status":403,"code":"JWT_ALG","message":"Forbidden"}
"json};
  }
  elsif (req.http.Edgegw-Error == "JWT_AUDIENCE") {
    set obj.status = 403;
    set obj.response = "Forbidden";
    set obj.http.Cache-Control = "no-store";
    set obj.http.Content-Type = "application/json";
    set obj.http.Www-Authenticate = {"Bearer realm="edge-api-gateway", error="invalid_token""};
    set obj.http.X-Content-Type-Options = "nosniff";
    synthetic {json"{"status":403,"code":"JWT_AUDIENCE","message":"Forbidden"}
"json};
  }
  elsif (req.http.Edgegw-Error == "JWT_CLAIMS") {
    set obj.status = 403;
    set obj.response = "Forbidden";
    set obj.http.Cache-Control = "no-store";
    set obj.http.Content-Type = "application/json";
    set obj.http.Www-Authenticate = {"Bearer realm="edge-api-gateway", error="invalid_token""};
    set obj.http.X-Content-Type-Options = "nosniff";
    synthetic {json"{"status":403,"code":"JWT_CLAIMS","message":"Forbidden"}
"json};
  }
  elsif (req.http.Edgegw-Error == "JWT_EXPIRED") {
    set obj.status = 403;
    set obj.response = "Forbidden";
    set obj.http.Cache-Control = "no-store";
    set obj.http.Content-Type = "application/json";
    set obj.http.Www-Authenticate = {"Bearer realm="edge-api-gateway", error="invalid_token""};
    set obj.http.X-Content-Type-Options = "nosniff";
    synthetic {json"{"status":403,"code":"JWT_EXPIRED","message":"Forbidden"}
"json};
  }
  elsif (req.http.Edgegw-Error == "JWT_ISSUER") {
    set obj.status = 403;
    set obj.response = "Forbidden";
    set obj.http.Cache-Control = "no-store";
    set obj.http.Content-Type = "application/json";
    set obj.http.Www-Authenticate = {"Bearer realm="edge-api-gateway", error="invalid_token""};
    set obj.http.X-Content-Type-Options = "nosniff";
    synthetic {json"{"status":403,"code":"JWT_ISSUER","message":"Forbidden"}
"json};
  }
  elsif (req.http.Edgegw-Error == "JWT_KEY") {
    set obj.status = 403;
    set obj.response = "Forbidden";
    set obj.http.Cache-Control = "no-store";
    set obj.http.Content-Type = "application/json";
    set obj.http.Www-Authenticate = {"Bearer realm="edge-api-gateway", error="invalid_token""};
    set obj.http.X-Content-Type-Options = "nosniff";
    synthetic {json"{"status":403,"code":"JWT_KEY","message":"Forbidden"}
"json};
  }
  elsif (req.http.Edgegw-Error == "JWT_MALFORMED") {
    set obj.status = 401;
    set obj.response = "Unauthorized";
    set obj.http.Cache-Control = "no-store";
    set obj.http.Content-Type = "application/json";
    set obj.http.Www-Authenticate = {"Bearer realm="edge-api-gateway""};
    set obj.http.X-Content-Type-Options = "nosniff";
    synthetic {json"{"status":401,"code":"JWT_MALFORMED","message":"Unauthorized"}
"json};
  }
  elsif (req.http.Edgegw-Error == "JWT_MISSING") {
    set obj.status = 401;
    set obj.response = "Unauthorized";
    set obj.http.Cache-Control = "no-store";
    set obj.http.Content-Type = "application/json";
    set obj.http.Www-Authenticate = {"Bearer realm="edge-api-gateway""};
    set obj.http.X-Content-Type-Options = "nosniff";
    synthetic {json"{"status":401,"code":"JWT_MISSING","message":"Unauthorized"}
"json};
  }
  elsif (req.http.Edgegw-Error == "JWT_NOT_YET_VALID") {
    set obj.status = 403;
    set obj.response = "Forbidden";
    set obj.http.Cache-Control = "no-store";
    set obj.http.Content-Type = "application/json";
    set obj.http.Www-Authenticate = {"Bearer realm="edge-api-gateway", error="invalid_token""};
    set obj.http.X-Content-Type-Options = "nosniff";
    synthetic {json"{"status":403,"code":"JWT_NOT_YET_VALID","message":"Forbidden"}
"json};
  }
  elsif (req.http.Edgegw-Error == "JWT_SIGNATURE") {
    set obj.status = 403;
    set obj.response = "Forbidden";
    set obj.http.Cache-Control = "no-store";
    set obj.http.Content-Type = "application/json";
    set obj.http.Www-Authenticate = {"Bearer realm="edge-api-gateway", error="invalid_token""};
    set obj.http.X-Content-Type-Options = "nosniff";
    synthetic {json"{"status":403,"code":"JWT_SIGNATURE","message":"Forbidden"}
"json};
  }
  elsif (req.http.Edgegw-Error == "JWT_TOO_LARGE") {
    set obj.status = 401;
    set obj.response = "Unauthorized";
    set obj.http.Cache-Control = "no-store";
    set obj.http.Content-Type = "application/json";
    set obj.http.Www-Authenticate = {"Bearer realm="edge-api-gateway""};
    set obj.http.X-Content-Type-Options = "nosniff";
    synthetic {json"{"status":401,"code":"JWT_TOO_LARGE","message":"Unauthorized"}
"json};
  }
  elsif (req.http.Edgegw-Error == "JWT_UNSUPPORTED") {
    set obj.status = 403;
    set obj.response = "Forbidden";
    set obj.http.Cache-Control = "no-store";
    set obj.http.Content-Type = "application/json";
    set obj.http.Www-Authenticate = {"Bearer realm="edge-api-gateway", error="invalid_token""};
    set obj.http.X-Content-Type-Options = "nosniff";
    synthetic {json"{"status":403,"code":"JWT_UNSUPPORTED","message":"Forbidden"}
"json};
  }
  elsif (req.http.Edgegw-Error == "NO_ROUTE") {
    set obj.status = 404;
    set obj.response = "Not Found";
    set obj.http.Cache-Control = "no-store";
    set obj.http.Content-Type = "application/json";
    set obj.http.X-Content-Type-Options = "nosniff";
    synthetic {json"{"status":404,"code":"NO_ROUTE","message":"Not Found"}
"json};
  }
  elsif (req.http.Edgegw-Error == "ORIGINS_OPEN") {
    set obj.status = 503;
    set obj.response = "Service Unavailable";
    set obj.http.Cache-Control = "no-store";
    set obj.http.Content-Type = "application/json";
    set obj.http.X-Content-Type-Options = "nosniff";
    synthetic {json"{"status":503,"code":"ORIGINS_OPEN","message":"Service Unavailable"}
"json};
  }
  elsif (req.http.Edgegw-Error == "RATE_LIMIT") {
    set obj.status = 429;
    set obj.response = "Too Many Requests";
    set obj.http.Cache-Control = "no-store";
    set obj.http.Content-Type = "application/json";
    set obj.http.X-Content-Type-Options = "nosniff";
    set obj.http.Retry-After = req.http.Edgegw-Retry-After;
    synthetic {json"{"status":429,"code":"RATE_LIMIT","message":"Too Many Requests"}
"json};
  }
  elsif (req.http.Edgegw-Error == "UPSTREAM_TIMEOUT") {
    set obj.status = 504;
    set obj.response = "Gateway Timeout";
    set obj.http.Cache-Control = "no-store";
    set obj.http.Content-Type = "application/json";
    set obj.http.X-Content-Type-Options = "nosniff";
    synthetic {json"{"status":504,"code":"UPSTREAM_TIMEOUT","message":"Gateway Timeout"}
"json};
  }
  elsif (req.http.Edgegw-Error == "UPSTREAM_UNREACHABLE") {
    set obj.status = 502;
    set obj.response = "Bad Gateway";
    set obj.http.Cache-Control = "no-store";
    set obj.http.Content-Type = "application/json";
    set obj.http.X-Content-Type-Options = "nosniff";
    synthetic {json"{"status":502,"code":"UPSTREAM_UNREACHABLE","message":"Bad Gateway"}
"json};
  }
  else {
    set obj.status = 502;
    set obj.response = "Bad Gateway";
    set obj.http.Cache-Control = "no-store";
    set obj.http.Content-Type = "application/json";
    set obj.http.X-Content-Type-Options = "nosniff";
    synthetic {json"{"status":502,"code":"UPSTREAM_UNREACHABLE","message":"Bad Gateway"}
"json};
  }
}

# Routes answered at the edge.
# @scope: error
sub edgegw_respond {
  # route health
  if (req.http.Edgegw-Route == "1") {
    set obj.status = 200;
    set obj.response = "OK";
    set obj.http.Content-Type = "text/plain; charset=utf-8";
    synthetic {json"ok"json};
    return;
  }
  # route docs
  if (req.http.Edgegw-Route == "2") {
    set obj.status = 308;
    set obj.response = "Permanent Redirect";
    set obj.http.Location = "https://docs.example.com/";
    synthetic "";
    return;
  }
}

# CORS preflight: 204, never cached by shared caches.
# @scope: error
sub edgegw_preflight {
  set obj.status = 204;
  set obj.response = "No Content";
  if (req.http.Edgegw-Cors-Origin) {
    set obj.http.Access-Control-Allow-Methods = "GET, POST";
    set obj.http.Access-Control-Allow-Headers = "Authorization";
    set obj.http.Access-Control-Max-Age = "600";
    set obj.http.Cache-Control = "no-cache";
  } else {
    set obj.http.Cache-Control = "no-cache";
  }
  synthetic "";
}

# Location headers from an origin, mapped back to public ones (gateway.publicLocation).
# @scope: deliver
sub edgegw_location {
  declare local var.loc STRING;
  declare local var.abs STRING;
  declare local var.path STRING;
  declare local var.suffix STRING;
  declare local var.from STRING;
  declare local var.to STRING;
  declare local var.rest STRING;
  declare local var.mapped BOOL;
  if (resp.http.Location) {
    set var.loc = resp.http.Location;
    set var.abs = "";
    set var.mapped = true;
    if (var.loc ~ "^[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*)(.*)$") {
      set var.rest = re.group.2;
      if (std.tolower(re.group.1) == "api-canary.internal" || std.tolower(re.group.1) == "api-origin-dr.internal" || std.tolower(re.group.1) == "api-origin.internal") {
        if (req.is_ssl) {
          set var.abs = "https://" + req.http.Edgegw-Public-Host;
        } else {
          set var.abs = "http://" + req.http.Edgegw-Public-Host;
        }
        set var.loc = var.rest;
      } else {
        set var.mapped = false;
      }
    }
    if (var.mapped && var.loc ~ "^/" && var.loc !~ "^//") {
      set var.path = regsub(var.loc, "[?#].*$", "");
      set var.suffix = regsub(var.loc, "^[^?#]*", "");
      set var.from = table.lookup(edgegw_rewrite_from, req.http.Edgegw-Route, "");
      set var.to = table.lookup(edgegw_rewrite_to, req.http.Edgegw-Route, "");
      if (var.from != "" && std.prefixof(var.path, var.to) && (var.path == var.to || var.to ~ "/$" || substr(var.path, std.strlen(var.to), 1) == "/")) {
        set var.rest = substr(var.path, std.strlen(var.to));
        if (var.rest == "") {
          set var.path = var.from;
        }
        elsif (var.from ~ "/$" && var.rest ~ "^/") {
          set var.path = var.from + regsub(var.rest, "^/", "");
        }
        elsif (var.from !~ "/$" && var.rest !~ "^/") {
          set var.path = var.from + "/" + var.rest;
        }
        else {
          set var.path = var.from + var.rest;
        }
      }
      set var.loc = var.path + var.suffix;
    }
    if (var.mapped) {
      set resp.http.Location = var.abs + var.loc;
    }
  }
  if (resp.http.Content-Location) {
    set var.loc = resp.http.Content-Location;
    set var.abs = "";
    set var.mapped = true;
    if (var.loc ~ "^[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*)(.*)$") {
      set var.rest = re.group.2;
      if (std.tolower(re.group.1) == "api-canary.internal" || std.tolower(re.group.1) == "api-origin-dr.internal" || std.tolower(re.group.1) == "api-origin.internal") {
        if (req.is_ssl) {
          set var.abs = "https://" + req.http.Edgegw-Public-Host;
        } else {
          set var.abs = "http://" + req.http.Edgegw-Public-Host;
        }
        set var.loc = var.rest;
      } else {
        set var.mapped = false;
      }
    }
    if (var.mapped && var.loc ~ "^/" && var.loc !~ "^//") {
      set var.path = regsub(var.loc, "[?#].*$", "");
      set var.suffix = regsub(var.loc, "^[^?#]*", "");
      set var.from = table.lookup(edgegw_rewrite_from, req.http.Edgegw-Route, "");
      set var.to = table.lookup(edgegw_rewrite_to, req.http.Edgegw-Route, "");
      if (var.from != "" && std.prefixof(var.path, var.to) && (var.path == var.to || var.to ~ "/$" || substr(var.path, std.strlen(var.to), 1) == "/")) {
        set var.rest = substr(var.path, std.strlen(var.to));
        if (var.rest == "") {
          set var.path = var.from;
        }
        elsif (var.from ~ "/$" && var.rest ~ "^/") {
          set var.path = var.from + regsub(var.rest, "^/", "");
        }
        elsif (var.from !~ "/$" && var.rest !~ "^/") {
          set var.path = var.from + "/" + var.rest;
        }
        else {
          set var.path = var.from + var.rest;
        }
      }
      set var.loc = var.path + var.suffix;
    }
    if (var.mapped) {
      set resp.http.Content-Location = var.abs + var.loc;
    }
  }
}

# Every response, from an origin or the edge: response transform, HSTS, CORS.
# @scope: deliver
sub edgegw_response_headers {
  if (req.http.Edgegw-Action == "proxy" && (resp.http.Location || resp.http.Content-Location)) {
    call edgegw_location;
  }
  # the edge answers CORS from the manifest: an origin's own CORS headers never reach the client
  if (req.http.Edgegw-Action == "proxy") {
    unset resp.http.Access-Control-Allow-Credentials;
    unset resp.http.Access-Control-Allow-Headers;
    unset resp.http.Access-Control-Allow-Methods;
    unset resp.http.Access-Control-Allow-Origin;
    unset resp.http.Access-Control-Expose-Headers;
    unset resp.http.Access-Control-Max-Age;
  }
  unset resp.http.Server;
  set resp.http.Strict-Transport-Security = "max-age=63072000; includeSubDomains; preload";
  add resp.http.Vary = "Origin";
  if (req.http.Edgegw-Cors-Origin) {
    set resp.http.Access-Control-Allow-Origin = req.http.Edgegw-Cors-Origin;
  }
}

sub vcl_recv {
  #FASTLY RECV
  if (req.restarts == 0) {
    # a client never sets the gateway's own state
    unset req.http.Edgegw-Action;
    unset req.http.Edgegw-Error;
    unset req.http.Edgegw-Path;
    unset req.http.Edgegw-Host;
    unset req.http.Edgegw-Domain;
    unset req.http.Edgegw-Tenant;
    unset req.http.Edgegw-Cors-Origin;
    unset req.http.Edgegw-Route;
    unset req.http.Edgegw-Pool;
    unset req.http.Edgegw-Upstream;
    unset req.http.Edgegw-Query;
    unset req.http.Edgegw-Candidates;
    unset req.http.Edgegw-Origin;
    unset req.http.Edgegw-Sub;
    unset req.http.Edgegw-Retry-After;
    unset req.http.Edgegw-Jwt-Verified;
    unset req.http.Edgegw-Public-Host;
    unset req.http.Edgegw-Claim-0;
    unset req.http.Edgegw-Claim-1;
    unset req.http.Edgegw-Claim-2;
    unset req.http.Edgegw-Claim-3;
    unset req.http.Edgegw-Claim-4;
    unset req.http.Edgegw-Claim-5;
    unset req.http.Edgegw-Claim-6;
    unset req.http.Edgegw-Claim-7;
    unset req.http.Edgegw-Test-Now;
    unset req.http.Edgegw-Test-Client-Ip;
    unset req.http.Edgegw-Test-Scheme;
    unset req.http.Edgegw-Test-Url;
    call edgegw_request;
    if (req.http.Edgegw-Error) {
      error 601;
    }
    if (req.http.Edgegw-Action == "respond") {
      error 602;
    }
    if (req.http.Edgegw-Action == "redirect") {
      error 603;
    }
    if (req.http.Edgegw-Action == "preflight") {
      error 604;
    }
  }
  call edgegw_pick;
  # an API gateway does not cache: every request goes to the origin
  return(pass);
}

sub vcl_hash {
  #FASTLY HASH
  set req.hash += req.url;
  set req.hash += req.http.host;
  return(hash);
}

sub vcl_hit {
  #FASTLY HIT
  return(pass);
}

sub vcl_miss {
  #FASTLY MISS
  # the gateway's state stays at the edge
  unset bereq.http.Edgegw-Action;
  unset bereq.http.Edgegw-Error;
  unset bereq.http.Edgegw-Path;
  unset bereq.http.Edgegw-Host;
  unset bereq.http.Edgegw-Domain;
  unset bereq.http.Edgegw-Tenant;
  unset bereq.http.Edgegw-Cors-Origin;
  unset bereq.http.Edgegw-Route;
  unset bereq.http.Edgegw-Pool;
  unset bereq.http.Edgegw-Upstream;
  unset bereq.http.Edgegw-Query;
  unset bereq.http.Edgegw-Candidates;
  unset bereq.http.Edgegw-Origin;
  unset bereq.http.Edgegw-Sub;
  unset bereq.http.Edgegw-Retry-After;
  unset bereq.http.Edgegw-Jwt-Verified;
  unset bereq.http.Edgegw-Public-Host;
  unset bereq.http.Edgegw-Claim-0;
  unset bereq.http.Edgegw-Claim-1;
  unset bereq.http.Edgegw-Claim-2;
  unset bereq.http.Edgegw-Claim-3;
  unset bereq.http.Edgegw-Claim-4;
  unset bereq.http.Edgegw-Claim-5;
  unset bereq.http.Edgegw-Claim-6;
  unset bereq.http.Edgegw-Claim-7;
  unset bereq.http.Edgegw-Test-Now;
  unset bereq.http.Edgegw-Test-Client-Ip;
  unset bereq.http.Edgegw-Test-Scheme;
  unset bereq.http.Edgegw-Test-Url;
  return(fetch);
}

sub vcl_pass {
  #FASTLY PASS
  # the gateway's state stays at the edge
  unset bereq.http.Edgegw-Action;
  unset bereq.http.Edgegw-Error;
  unset bereq.http.Edgegw-Path;
  unset bereq.http.Edgegw-Host;
  unset bereq.http.Edgegw-Domain;
  unset bereq.http.Edgegw-Tenant;
  unset bereq.http.Edgegw-Cors-Origin;
  unset bereq.http.Edgegw-Route;
  unset bereq.http.Edgegw-Pool;
  unset bereq.http.Edgegw-Upstream;
  unset bereq.http.Edgegw-Query;
  unset bereq.http.Edgegw-Candidates;
  unset bereq.http.Edgegw-Origin;
  unset bereq.http.Edgegw-Sub;
  unset bereq.http.Edgegw-Retry-After;
  unset bereq.http.Edgegw-Jwt-Verified;
  unset bereq.http.Edgegw-Public-Host;
  unset bereq.http.Edgegw-Claim-0;
  unset bereq.http.Edgegw-Claim-1;
  unset bereq.http.Edgegw-Claim-2;
  unset bereq.http.Edgegw-Claim-3;
  unset bereq.http.Edgegw-Claim-4;
  unset bereq.http.Edgegw-Claim-5;
  unset bereq.http.Edgegw-Claim-6;
  unset bereq.http.Edgegw-Claim-7;
  unset bereq.http.Edgegw-Test-Now;
  unset bereq.http.Edgegw-Test-Client-Ip;
  unset bereq.http.Edgegw-Test-Scheme;
  unset bereq.http.Edgegw-Test-Url;
  return(pass);
}

sub vcl_fetch {
  #FASTLY FETCH
  # failover: a listed status from an origin that is not the last candidate tries the next one
  if (req.http.Edgegw-Candidates ~ "." && ((req.http.Edgegw-Pool == "api" && (beresp.status == 502 || beresp.status == 503 || beresp.status == 504)) || (req.http.Edgegw-Pool == "canary" && (beresp.status == 502 || beresp.status == 503 || beresp.status == 504)))) {
    restart;
  }
  set beresp.ttl = 0s;
  return(deliver);
}

sub vcl_error {
  #FASTLY ERROR
  if (obj.status == 601) {
    call edgegw_edge_error;
    return(deliver);
  }
  if (obj.status == 602 || obj.status == 603) {
    call edgegw_respond;
    return(deliver);
  }
  if (obj.status == 604) {
    call edgegw_preflight;
    return(deliver);
  }
  # Fastly's own error while proxying: the origin was unreachable or timed out
  if (req.http.Edgegw-Action == "proxy") {
    if (req.http.Edgegw-Candidates ~ ".") {
      restart;
    }
    if (obj.response ~ "(?i)timeout") {
      set req.http.Edgegw-Error = "UPSTREAM_TIMEOUT";
    } else {
      set req.http.Edgegw-Error = "UPSTREAM_UNREACHABLE";
    }
    call edgegw_edge_error;
    return(deliver);
  }
}

sub vcl_deliver {
  #FASTLY DELIVER
  call edgegw_response_headers;
  return(deliver);
}

sub vcl_log {
  #FASTLY LOG
}
