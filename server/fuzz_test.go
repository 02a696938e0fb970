package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzRequestBody sends arbitrary bodies to every POST endpoint of every
// protocol (clipinfer's, OpenAI's, Immich's, Weaviate's): the server must
// answer 200 or a 4xx JSON error, never panic or 500.
func FuzzRequestBody(f *testing.F) {
	for _, seed := range []string{
		`{"texts":["a cat"]}`,
		`{"input":"x"}`,
		`{"images":["iVBORw0KGgo="]}`,
		`{"labels":["a","b"],"images":["data:image/png;base64,AAAA"],"k":2}`,
		`{"text":"q","k":-1}`,
		`{"image":"!!"}`,
		`[]`, `null`, `{"texts":null}`, "\x00",
		`{"model":"fake","input":[[49406,320,49407]],"encoding_format":"base64"}`,
		`{"input":[{"image":"AAAA"},{"text":"a"},"b"],"dimensions":4}`,
		`{"texts":["a"],"images":null}`,
	} {
		f.Add("application/json", seed)
	}
	f.Add("multipart/form-data; boundary=X", "--X\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nhi\r\n--X--\r\n")
	f.Add("multipart/form-data", "--X--")
	f.Add("multipart/form-data; boundary=X", "--X\r\nContent-Disposition: form-data; name=\"entries\"\r\n\r\n{\"clip\":{\"textual\":{\"modelName\":\"fake\"}}}\r\n--X\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nhi\r\n--X--\r\n")
	s, err := New(Config{Model: &fakeModel{}, MaxBodyBytes: 1 << 16, MaxPixels: 1 << 12})
	if err != nil {
		f.Fatal(err)
	}
	h := s.Handler()
	f.Fuzz(func(t *testing.T, contentType, body string) {
		for _, path := range []string{"/v1/embeddings", "/v1/classify", "/v1/search", "/predict", "/vectorize"} {
			req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
			req.Header.Set("Content-Type", contentType)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != 200 && (rec.Code < 400 || rec.Code >= 500) {
				t.Fatalf("%s: status %d: %s", path, rec.Code, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Fatalf("%s: content type %q", path, ct)
			}
		}
	})
}
