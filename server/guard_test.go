package server

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// do sends one request with the given headers ("Host" sets the Host line).
func do(t *testing.T, method, u string, headers map[string]string, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		if k == "Host" {
			req.Host = v
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

const oneText = `{"texts":["a cat"]}`

func TestGuardHost(t *testing.T) {
	base := start(t, newServer(t, Config{AllowHosts: []string{"photos.lan"}}))
	port := base[strings.LastIndex(base, ":"):]
	for _, c := range []struct {
		host string
		code int
	}{
		{"", http.StatusOK}, // the URL's own 127.0.0.1:port
		{"localhost" + port, http.StatusOK},
		{"[::1]" + port, http.StatusOK},
		{"192.168.1.20" + port, http.StatusOK},
		{"photos.lan" + port, http.StatusOK},
		{"PHOTOS.LAN.", http.StatusOK},
		{"rebind.attacker.example" + port, http.StatusMisdirectedRequest},
		{"localhost.attacker.example", http.StatusMisdirectedRequest},
	} {
		h := map[string]string{}
		if c.host != "" {
			h["Host"] = c.host
		}
		resp, body := do(t, "GET", base+"/healthz", h, "")
		assert.Equal(t, c.code, resp.StatusCode, "Host %q: %s", c.host, body)
		resp, body = do(t, "POST", base+"/v1/embeddings", h, oneText)
		assert.Equal(t, c.code, resp.StatusCode, "Host %q: %s", c.host, body)
	}
}

func TestGuardOrigin(t *testing.T) {
	base := start(t, newServer(t, Config{AllowOrigins: []string{"https://app.example"}}))
	own := "http://" + strings.TrimPrefix(base, "http://")
	for _, c := range []struct {
		name    string
		headers map[string]string
		code    int
	}{
		{"no Origin (curl, SDKs)", nil, http.StatusOK},
		{"foreign Origin", map[string]string{"Origin": "http://evil.example"}, http.StatusForbidden},
		{"null Origin", map[string]string{"Origin": "null"}, http.StatusForbidden},
		{"own origin", map[string]string{"Origin": own}, http.StatusOK},
		{"allowed origin", map[string]string{"Origin": "https://app.example"}, http.StatusOK},
		{"cross-site without Origin", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"same-origin fetch", map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusOK},
	} {
		resp, body := do(t, "POST", base+"/v1/embeddings", c.headers, oneText)
		assert.Equal(t, c.code, resp.StatusCode, "%s: %s", c.name, body)
		if c.name == "allowed origin" {
			assert.Equal(t, "https://app.example", resp.Header.Get("Access-Control-Allow-Origin"))
		}
		if c.code == http.StatusForbidden {
			assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
		}
	}
	// A preflight from the allowed origin is answered; from another refused.
	resp, _ := do(t, "OPTIONS", base+"/v1/embeddings", map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}, "")
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("Access-Control-Allow-Headers"), "Authorization")
	resp, _ = do(t, "OPTIONS", base+"/v1/embeddings", map[string]string{"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}, "")
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
}

func TestGuardToken(t *testing.T) {
	base := start(t, newServer(t, Config{Token: "s3cret-token"}))
	for _, c := range []struct {
		method, path, auth string
		code               int
	}{
		{"POST", "/v1/embeddings", "", http.StatusUnauthorized},
		{"POST", "/v1/embeddings", "Bearer wrong", http.StatusUnauthorized},
		{"POST", "/v1/embeddings", "Basic czNjcmV0LXRva2Vu", http.StatusUnauthorized},
		{"POST", "/v1/embeddings", "Bearer s3cret-token", http.StatusOK},
		{"POST", "/v1/embeddings", "bearer s3cret-token", http.StatusOK},
		{"GET", "/metrics", "", http.StatusUnauthorized},
		{"GET", "/v1/models", "", http.StatusUnauthorized},
		{"GET", "/healthz", "", http.StatusOK},
		{"GET", "/nope", "", http.StatusUnauthorized},
	} {
		h := map[string]string{}
		if c.auth != "" {
			h["Authorization"] = c.auth
		}
		body := ""
		if c.method == "POST" {
			body = oneText
		}
		resp, out := do(t, c.method, base+c.path, h, body)
		assert.Equal(t, c.code, resp.StatusCode, "%s %s %q: %s", c.method, c.path, c.auth, out)
		if c.code == http.StatusUnauthorized {
			assert.Contains(t, resp.Header.Get("WWW-Authenticate"), "Bearer")
		}
	}
}

func TestGuardWrapsEveryRoute(t *testing.T) {
	s := newServer(t, Config{})
	// A route registered after New, as protocol handlers are, is still
	// behind the guard: Handler wraps the whole mux.
	s.route("GET /v1/late", "late", func(w http.ResponseWriter, r *http.Request) error {
		writeJSON(w, http.StatusOK, map[string]string{"ok": "yes"})
		return nil
	})
	base := start(t, s)
	u, _ := url.Parse(base)
	resp, _ := do(t, "GET", base+"/v1/late", map[string]string{"Host": "evil.example"}, "")
	assert.Equal(t, http.StatusMisdirectedRequest, resp.StatusCode)
	resp, _ = do(t, "GET", base+"/v1/late", map[string]string{"Host": u.Host}, "")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}
