package server

import (
	"crypto/subtle"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// The guard runs before every route (including ones added later: it wraps
// the whole mux). It stops three attacks on a server bound to a trusted
// network or to loopback:
//
//   - DNS rebinding: a web page on attacker.example makes its own name
//     resolve to 127.0.0.1 and reads the API as same-origin. Its requests
//     carry "Host: attacker.example", so a Host that is not an IP literal,
//     "localhost" or a name given in Config.AllowHosts is refused (421).
//   - Cross-site requests: a page on another origin POSTs or GETs the API
//     from a visitor's browser (CSRF, or reading /v1/search results through
//     CORS). Browsers send Origin (and Sec-Fetch-Site) with them; an origin
//     that is neither the request's own host nor in Config.AllowOrigins is
//     refused (403). Allowed origins get CORS headers and preflights.
//   - Anyone who can reach the port: with Config.Token set every request
//     but GET /healthz needs "Authorization: Bearer <token>" (401).

// guard wraps next with the Host, Origin and token checks.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.hostAllowed(r.Host) {
			s.metrics.observe("refused", http.StatusMisdirectedRequest, 0)
			writeError(w, http.StatusMisdirectedRequest, "Host "+quoteHeader(r.Host)+" is not this server's address or an allowed name (serve -allow-host)")
			return
		}
		origin := r.Header.Get("Origin")
		if origin != "" || crossSite(r) {
			if !s.originAllowed(origin, r.Host) {
				s.metrics.observe("refused", http.StatusForbidden, 0)
				writeError(w, http.StatusForbidden, "cross-origin request from "+quoteHeader(origin)+" refused (serve -allow-origin)")
				return
			}
			if origin != "" {
				h := w.Header()
				h.Set("Access-Control-Allow-Origin", origin)
				h.Add("Vary", "Origin")
				if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
					h.Set("Access-Control-Allow-Methods", "GET, POST")
					h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
					h.Set("Access-Control-Max-Age", "600")
					w.WriteHeader(http.StatusNoContent)
					return
				}
			}
		}
		if s.cfg.Token != "" && !(r.Method == http.MethodGet && r.URL.Path == "/healthz") && !s.tokenOK(r) {
			s.metrics.observe("refused", http.StatusUnauthorized, 0)
			w.Header().Set("WWW-Authenticate", `Bearer realm="clipinfer"`)
			writeError(w, http.StatusUnauthorized, "missing or wrong bearer token")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// hostAllowed reports whether a Host header names this server: an IP
// literal (rebinding needs a name), localhost, or an allowed name ("*"
// allows every name).
func (s *Server) hostAllowed(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if host == "" {
		return true // HTTP/1.0 without Host: no browser sends that
	}
	if net.ParseIP(host) != nil || host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	for _, a := range s.cfg.AllowHosts {
		if a == "*" || strings.EqualFold(strings.TrimSuffix(a, "."), host) {
			return true
		}
	}
	return false
}

// originAllowed reports whether a browser request from origin may be
// served: the server's own origin (same host and port), or one listed in
// AllowOrigins ("*" allows any).
func (s *Server) originAllowed(origin, host string) bool {
	if origin != "" && origin != "null" {
		if u, err := url.Parse(origin); err == nil && u.Host != "" && strings.EqualFold(u.Host, host) {
			return true
		}
	}
	return slices.ContainsFunc(s.cfg.AllowOrigins, func(a string) bool {
		return a == "*" || (origin != "" && strings.EqualFold(strings.TrimSuffix(a, "/"), origin))
	})
}

// crossSite reports a browser request sent by another site without an
// Origin header (a plain GET from an <img> or a link).
func crossSite(r *http.Request) bool {
	v := r.Header.Get("Sec-Fetch-Site")
	return v == "cross-site" || v == "same-site"
}

func (s *Server) tokenOK(r *http.Request) bool {
	auth := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(s.cfg.Token)) == 1
}

// quoteHeader quotes an untrusted header value for an error message,
// shortened.
func quoteHeader(v string) string {
	if len(v) > 100 {
		v = v[:100] + "…"
	}
	return strconv.Quote(v)
}
