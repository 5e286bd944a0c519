# Fastly VCL for gateway quickstart, rendered by edgegw from the manifest: change the manifest, not this file.
# Requests are decided as the reference gateway decides them: path normalization, host, CORS
# preflight, route (IR order), auth, rate limit, then respond, redirect or proxy with failover.

# origin app: http://127.0.0.1:9000
backend F_app {
  .host = "127.0.0.1";
  .port = "9000";
  .connect_timeout = 30000ms;
  .first_byte_timeout = 30000ms;
  .between_bytes_timeout = 30000ms;
}

# route -> pool
table edgegw_route_pool STRING {
  "2": "app", # route api
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
  # route health (exact /health)
  if (var.p == "/health") {
    set req.http.Edgegw-Route = "1";
  # route api (prefix /api)
  } elsif (var.p ~ "^/api(/|$)") {
    set req.http.Edgegw-Route = "2";
  # route default (fallback)
  } elsif (true) {
    set req.http.Edgegw-Route = "3";
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
  } else {
    set req.http.Edgegw-Error = "HOST_UNKNOWN";
    return;
  }
  call edgegw_route;
  if (!req.http.Edgegw-Route) {
    set req.http.Edgegw-Error = "NO_ROUTE";
    return;
  }
  set var.r = req.http.Edgegw-Route;
  if (var.r == "1" || var.r == "3") {
    set req.http.Edgegw-Action = "respond";
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
  if (req.http.Edgegw-Pool == "app") {
    if (backend.F_app.healthy) {
      set req.http.Edgegw-Candidates = req.http.Edgegw-Candidates + "app,";
    }
    if (req.http.Edgegw-Candidates !~ ".") {
      set req.http.Edgegw-Candidates = "app,";
    }
  }
}

# Upstream headers (gateway.transformUpstreamHeader): strip, transform, request id, tenant, claims.
# @scope: recv
sub edgegw_transform {
}

# The next candidate origin of the pool; the upstream URL is its base path, the upstream path, the query.
# @scope: recv
sub edgegw_pick {
  set req.http.Edgegw-Origin = regsub(req.http.Edgegw-Candidates, ",.*$", "");
  set req.http.Edgegw-Candidates = regsub(req.http.Edgegw-Candidates, "^[^,]*,", "");
  if (req.http.Edgegw-Origin == "app") {
    set req.backend = F_app;
    set req.url = req.http.Edgegw-Upstream + req.http.Edgegw-Query;
    set req.http.Host = "127.0.0.1:9000";
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
    set obj.http.Www-Authenticate = {"Bearer realm="quickstart", error="invalid_token""};
    set obj.http.X-Content-Type-Options = "nosniff";
    synthetic {json"{"status":403,"code":"JWT_ALG","message":"Forbidden"}
"json};
  }
  elsif (req.http.Edgegw-Error == "JWT_AUDIENCE") {
    set obj.status = 403;
    set obj.response = "Forbidden";
    set obj.http.Cache-Control = "no-store";
    set obj.http.Content-Type = "application/json";
    set obj.http.Www-Authenticate = {"Bearer realm="quickstart", error="invalid_token""};
    set obj.http.X-Content-Type-Options = "nosniff";
    synthetic {json"{"status":403,"code":"JWT_AUDIENCE","message":"Forbidden"}
"json};
  }
  elsif (req.http.Edgegw-Error == "JWT_CLAIMS") {
    set obj.status = 403;
    set obj.response = "Forbidden";
    set obj.http.Cache-Control = "no-store";
    set obj.http.Content-Type = "application/json";
    set obj.http.Www-Authenticate = {"Bearer realm="quickstart", error="invalid_token""};
    set obj.http.X-Content-Type-Options = "nosniff";
    synthetic {json"{"status":403,"code":"JWT_CLAIMS","message":"Forbidden"}
"json};
  }
  elsif (req.http.Edgegw-Error == "JWT_EXPIRED") {
    set obj.status = 403;
    set obj.response = "Forbidden";
    set obj.http.Cache-Control = "no-store";
    set obj.http.Content-Type = "application/json";
    set obj.http.Www-Authenticate = {"Bearer realm="quickstart", error="invalid_token""};
    set obj.http.X-Content-Type-Options = "nosniff";
    synthetic {json"{"status":403,"code":"JWT_EXPIRED","message":"Forbidden"}
"json};
  }
  elsif (req.http.Edgegw-Error == "JWT_ISSUER") {
    set obj.status = 403;
    set obj.response = "Forbidden";
    set obj.http.Cache-Control = "no-store";
    set obj.http.Content-Type = "application/json";
    set obj.http.Www-Authenticate = {"Bearer realm="quickstart", error="invalid_token""};
    set obj.http.X-Content-Type-Options = "nosniff";
    synthetic {json"{"status":403,"code":"JWT_ISSUER","message":"Forbidden"}
"json};
  }
  elsif (req.http.Edgegw-Error == "JWT_KEY") {
    set obj.status = 403;
    set obj.response = "Forbidden";
    set obj.http.Cache-Control = "no-store";
    set obj.http.Content-Type = "application/json";
    set obj.http.Www-Authenticate = {"Bearer realm="quickstart", error="invalid_token""};
    set obj.http.X-Content-Type-Options = "nosniff";
    synthetic {json"{"status":403,"code":"JWT_KEY","message":"Forbidden"}
"json};
  }
  elsif (req.http.Edgegw-Error == "JWT_MALFORMED") {
    set obj.status = 401;
    set obj.response = "Unauthorized";
    set obj.http.Cache-Control = "no-store";
    set obj.http.Content-Type = "application/json";
    set obj.http.Www-Authenticate = {"Bearer realm="quickstart""};
    set obj.http.X-Content-Type-Options = "nosniff";
    synthetic {json"{"status":401,"code":"JWT_MALFORMED","message":"Unauthorized"}
"json};
  }
  elsif (req.http.Edgegw-Error == "JWT_MISSING") {
    set obj.status = 401;
    set obj.response = "Unauthorized";
    set obj.http.Cache-Control = "no-store";
    set obj.http.Content-Type = "application/json";
    set obj.http.Www-Authenticate = {"Bearer realm="quickstart""};
    set obj.http.X-Content-Type-Options = "nosniff";
    synthetic {json"{"status":401,"code":"JWT_MISSING","message":"Unauthorized"}
"json};
  }
  elsif (req.http.Edgegw-Error == "JWT_NOT_YET_VALID") {
    set obj.status = 403;
    set obj.response = "Forbidden";
    set obj.http.Cache-Control = "no-store";
    set obj.http.Content-Type = "application/json";
    set obj.http.Www-Authenticate = {"Bearer realm="quickstart", error="invalid_token""};
    set obj.http.X-Content-Type-Options = "nosniff";
    synthetic {json"{"status":403,"code":"JWT_NOT_YET_VALID","message":"Forbidden"}
"json};
  }
  elsif (req.http.Edgegw-Error == "JWT_SIGNATURE") {
    set obj.status = 403;
    set obj.response = "Forbidden";
    set obj.http.Cache-Control = "no-store";
    set obj.http.Content-Type = "application/json";
    set obj.http.Www-Authenticate = {"Bearer realm="quickstart", error="invalid_token""};
    set obj.http.X-Content-Type-Options = "nosniff";
    synthetic {json"{"status":403,"code":"JWT_SIGNATURE","message":"Forbidden"}
"json};
  }
  elsif (req.http.Edgegw-Error == "JWT_TOO_LARGE") {
    set obj.status = 401;
    set obj.response = "Unauthorized";
    set obj.http.Cache-Control = "no-store";
    set obj.http.Content-Type = "application/json";
    set obj.http.Www-Authenticate = {"Bearer realm="quickstart""};
    set obj.http.X-Content-Type-Options = "nosniff";
    synthetic {json"{"status":401,"code":"JWT_TOO_LARGE","message":"Unauthorized"}
"json};
  }
  elsif (req.http.Edgegw-Error == "JWT_UNSUPPORTED") {
    set obj.status = 403;
    set obj.response = "Forbidden";
    set obj.http.Cache-Control = "no-store";
    set obj.http.Content-Type = "application/json";
    set obj.http.Www-Authenticate = {"Bearer realm="quickstart", error="invalid_token""};
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
  # route default
  if (req.http.Edgegw-Route == "3") {
    set obj.status = 404;
    set obj.response = "Not Found";
    set obj.http.Content-Type = "text/plain; charset=utf-8";
    synthetic {json"not found"json};
    return;
  }
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
      if (std.tolower(re.group.1) == "127.0.0.1:9000") {
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
      if (std.tolower(re.group.1) == "127.0.0.1:9000") {
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
