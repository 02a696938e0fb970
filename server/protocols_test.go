package server

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"image"
	"image/color"
	"io"
	"math"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/convert"
	"github.com/clipinfer/clipinfer/internal/randclip"
	clip "github.com/clipinfer/clipinfer/runtime"
)

// tinyModel converts and opens a random tiny CLIP (q8) for tests that
// compare the protocols' vectors with the runtime's.
func tinyModel(t *testing.T) *clip.Model {
	t.Helper()
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "tiny.safetensors"), filepath.Join(dir, "tiny.clip")
	require.NoError(t, randclip.WriteSafetensors(src, randclip.Tiny, 1))
	_, err := convert.Convert(src, dst, convert.Options{Quant: "q8"})
	require.NoError(t, err)
	m, err := clip.Open(dst, clip.Options{Threads: 1})
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	return m
}

// protocolServer serves m as "tiny.clip" with the alias Immich uses by
// default.
func protocolServer(t *testing.T, m *clip.Model) string {
	t.Helper()
	return start(t, newServer(t, Config{Model: m, ModelName: "tiny.clip", Aliases: []string{"ViT-B-32__openai"}, MaxBatch: 8}))
}

func embedImageBytes(t *testing.T, m *clip.Model, b []byte) []float32 {
	t.Helper()
	img, err := m.DecodeImage(writeTemp(t, t.TempDir(), "x.png", b))
	require.NoError(t, err)
	e, err := m.EmbedImages([]image.Image{img})
	require.NoError(t, err)
	return e[0]
}

func embedText(t *testing.T, m *clip.Model, s string) []float32 {
	t.Helper()
	e, err := m.EmbedTexts([]string{s})
	require.NoError(t, err)
	return e[0]
}

func getBody(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

func TestOpenAIEmbeddings(t *testing.T) {
	m := tinyModel(t)
	base := protocolServer(t, m)
	png := pngBytes(t, 40, 30, color.RGBA{200, 40, 90, 255})
	cat, dog := embedText(t, m, "a photo of a cat"), embedText(t, m, "a dog")
	ids, err := m.Tokenize("a dog")
	require.NoError(t, err)

	type item = map[string]any
	tests := []struct {
		name   string
		input  any
		want   [][]float32
		tokens int
	}{
		{"string", "a photo of a cat", [][]float32{cat}, 7},
		{"strings", []string{"a photo of a cat", "a dog"}, [][]float32{cat, dog}, 7 + 4},
		{"token ids", ids[:4], [][]float32{dog}, 4},
		{"token id lists", [][]int32{ids[:4], ids}, [][]float32{dog, dog}, 8},
		{"mixed with an image", []any{item{"image": "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)}, item{"text": "a dog"}, "a photo of a cat"},
			[][]float32{embedImageBytes(t, m, png), dog, cat}, 4 + 7},
	}
	for _, tc := range tests {
		for _, format := range []string{"float", "base64", ""} {
			t.Run(tc.name+"/"+format, func(t *testing.T) {
				req := map[string]any{"model": "tiny.clip", "input": tc.input}
				if format != "" {
					req["encoding_format"] = format
				}
				resp, body := postJSON(t, base+"/v1/embeddings", req)
				require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
				var er struct {
					Object string `json:"object"`
					Data   []struct {
						Object    string          `json:"object"`
						Index     int             `json:"index"`
						Embedding json.RawMessage `json:"embedding"`
					} `json:"data"`
					Model string `json:"model"`
					Usage Usage  `json:"usage"`
				}
				require.NoError(t, json.Unmarshal(body, &er))
				assert.Equal(t, "list", er.Object)
				assert.Equal(t, "tiny.clip", er.Model)
				assert.Equal(t, Usage{tc.tokens, tc.tokens}, er.Usage)
				require.Len(t, er.Data, len(tc.want))
				for i, d := range er.Data {
					assert.Equal(t, "embedding", d.Object)
					assert.Equal(t, i, d.Index)
					var got []float32
					if format == "base64" {
						var s string
						require.NoError(t, json.Unmarshal(d.Embedding, &s))
						b, err := base64.StdEncoding.DecodeString(s)
						require.NoError(t, err)
						require.Len(t, b, 4*len(tc.want[i]))
						for j := 0; j < len(b); j += 4 {
							got = append(got, math.Float32frombits(binary.LittleEndian.Uint32(b[j:])))
						}
					} else {
						require.NoError(t, json.Unmarshal(d.Embedding, &got))
					}
					assert.Equal(t, tc.want[i], got, "input %d", i)
				}
			})
		}
	}
}

func TestOpenAIErrors(t *testing.T) {
	m := tinyModel(t)
	base := protocolServer(t, m)
	tests := []struct {
		name  string
		body  any
		code  int
		param string
		ecode string
		msg   string
	}{
		{"unknown model", `{"model":"text-embedding-3-small","input":"a"}`, 404, "model", "model_not_found", "not served here"},
		{"other dimensions", `{"model":"tiny.clip","input":"a","dimensions":8}`, 400, "dimensions", "", "dimensions = 8"},
		{"bad encoding", `{"input":"a","encoding_format":"int8"}`, 400, "encoding_format", "", "encoding_format"},
		{"no input", `{"model":"tiny.clip"}`, 400, "input", "", "nothing to embed"},
		{"empty list", `{"input":[]}`, 400, "input", "", "empty list"},
		{"number", `{"input":3}`, 400, "input", "", `"input" must be`},
		{"bad object", `{"input":[{"video":"x"}]}`, 400, "input", "", "want {"},
		{"both in one object", `{"input":[{"text":"a","image":"AAAA"}]}`, 400, "input", "", "exactly one"},
		{"too many", `{"input":["a","b","c","d","e","f","g","h","i"]}`, 400, "input", "", "at most 8"},
		{"token out of range", `{"input":[[49406,99999999,49407]]}`, 422, "", "", ""},
		{"unknown field", `{"input":"a","temperature":1}`, 400, "", "", "unknown field"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := postJSON(t, base+"/v1/embeddings", tc.body)
			require.Equal(t, tc.code, resp.StatusCode, string(body))
			var e openAIError
			require.NoError(t, json.Unmarshal(body, &e), string(body))
			assert.Contains(t, e.Error.Message, tc.msg)
			assert.Equal(t, "invalid_request_error", e.Error.Type)
			if tc.param == "" {
				assert.Nil(t, e.Error.Param)
			} else if assert.NotNil(t, e.Error.Param) {
				assert.Equal(t, tc.param, *e.Error.Param)
			}
			if tc.ecode == "" {
				assert.Nil(t, e.Error.Code)
			} else if assert.NotNil(t, e.Error.Code) {
				assert.Equal(t, tc.ecode, *e.Error.Code)
			}
		})
	}
}

func TestOpenAIModels(t *testing.T) {
	base := protocolServer(t, tinyModel(t))
	resp, body := getBody(t, base+"/v1/models")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var list ModelList
	require.NoError(t, json.Unmarshal(body, &list))
	assert.Equal(t, ModelList{Object: "list", Data: []ModelInfo{
		{ID: "tiny.clip", Object: "model", OwnedBy: "clipinfer"},
		{ID: "ViT-B-32__openai", Object: "model", OwnedBy: "clipinfer"},
	}}, list)

	resp, body = getBody(t, base+"/v1/models/ViT-B-32__openai")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.JSONEq(t, `{"id":"ViT-B-32__openai","object":"model","created":0,"owned_by":"clipinfer"}`, string(body))
	resp, body = getBody(t, base+"/v1/models/gpt-4")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Contains(t, string(body), "model_not_found")
}

// immichForm builds /predict's body as Immich's server does it
// (server/src/repositories/machine-learning.repository.ts, getFormData):
// FormData with "entries" = JSON.stringify(config), then the image as a
// Blob (a file part named "blob") or the text as a field.
func immichForm(t *testing.T, entries string, img []byte, text *string) (string, *bytes.Buffer) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	require.NoError(t, mw.WriteField("entries", entries))
	if img != nil {
		fw, err := mw.CreateFormFile("image", "blob")
		require.NoError(t, err)
		_, err = fw.Write(img)
		require.NoError(t, err)
	}
	if text != nil {
		require.NoError(t, mw.WriteField("text", *text))
	}
	require.NoError(t, mw.Close())
	return mw.FormDataContentType(), &b
}

func postForm(t *testing.T, url, ct string, body io.Reader) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Post(url, ct, body)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

func TestImmich(t *testing.T) {
	m := tinyModel(t)
	base := protocolServer(t, m)

	resp, body := getBody(t, base+"/ping")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "pong", string(body))
	assert.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
	resp, body = getBody(t, base+"/")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.JSONEq(t, `{"message":"Immich ML"}`, string(body))

	// A visual request, as encodeImage sends it.
	png := pngBytes(t, 40, 30, color.RGBA{10, 200, 90, 255})
	ct, b := immichForm(t, `{"clip":{"visual":{"modelName":"ViT-B-32__openai"}}}`, png, nil)
	resp, body = postForm(t, base+"/predict", ct, b)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var visual struct {
		Clip        string `json:"clip"`
		ImageHeight int    `json:"imageHeight"`
		ImageWidth  int    `json:"imageWidth"`
	}
	require.NoError(t, json.Unmarshal(body, &visual))
	assert.Equal(t, 30, visual.ImageHeight)
	assert.Equal(t, 40, visual.ImageWidth)
	var got []float32
	require.NoError(t, json.Unmarshal([]byte(visual.Clip), &got), "the embedding is a string holding a JSON array")
	assert.Equal(t, embedImageBytes(t, m, png), got)
	assert.NotContains(t, visual.Clip, " ", "compact, as orjson writes it")

	// A textual request, as encodeText sends it (language may be absent).
	for _, entries := range []string{
		`{"clip":{"textual":{"modelName":"ViT-B-32__openai","options":{"language":"en"}}}}`,
		`{"clip":{"textual":{"modelName":"tiny.clip","options":{}}}}`,
	} {
		text := "a photo of a cat"
		ct, b = immichForm(t, entries, nil, &text)
		resp, body = postForm(t, base+"/predict", ct, b)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		var textual map[string]any
		require.NoError(t, json.Unmarshal(body, &textual))
		assert.Len(t, textual, 1, "no image size for text")
		require.NoError(t, json.Unmarshal([]byte(textual["clip"].(string)), &got))
		assert.Equal(t, embedText(t, m, text), got)
	}

	text := "x"
	tests := []struct {
		name    string
		entries string
		img     []byte
		text    *string
		code    int
		detail  string
	}{
		{"no input", `{"clip":{"textual":{"modelName":"tiny.clip"}}}`, nil, nil, 400, "Either image or text must be provided"},
		{"entries not JSON", `{clip`, nil, &text, 422, "Invalid request format."},
		{"no model name", `{"clip":{"textual":{}}}`, nil, &text, 422, "Invalid request format."},
		{"face recognition", `{"facial-recognition":{"detection":{"modelName":"buffalo_l","options":{"minScore":0.7}},"recognition":{"modelName":"buffalo_l"}}}`, png, nil, 400, "only \"clip\""},
		{"other model", `{"clip":{"textual":{"modelName":"ViT-L-14__openai"}}}`, nil, &text, 404, "not served here"},
		{"text to the visual model", `{"clip":{"visual":{"modelName":"tiny.clip"}}}`, nil, &text, 400, "sends a text"},
		{"not an image", `{"clip":{"visual":{"modelName":"tiny.clip"}}}`, []byte("hello"), nil, 400, "image 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ct, b := immichForm(t, tc.entries, tc.img, tc.text)
			resp, body := postForm(t, base+"/predict", ct, b)
			require.Equal(t, tc.code, resp.StatusCode, string(body))
			var e struct{ Detail string }
			require.NoError(t, json.Unmarshal(body, &e))
			assert.Contains(t, e.Detail, tc.detail)
		})
	}
}

func TestWeaviate(t *testing.T) {
	m := tinyModel(t)
	base := protocolServer(t, m)
	png := pngBytes(t, 20, 20, color.RGBA{90, 90, 250, 255})
	raw := base64.StdEncoding.EncodeToString(png)

	// Bodies as Weaviate's Go client marshals them (modules/multi2vec-clip/
	// clients/vectorizer.go: vecRequest{Texts, Images}, a nil list as null)
	// and as newer clients send them, empty lists omitted.
	tests := []struct {
		name         string
		body         string
		texts, image int
	}{
		{"both", `{"texts":["a dog","a photo of a cat"],"images":["` + raw + `"]}`, 2, 1},
		{"texts, images null", `{"texts":["a dog"],"images":null}`, 1, 0},
		{"images only, texts omitted", `{"images":["` + raw + `"]}`, 0, 1},
		{"nothing", `{}`, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := postJSON(t, base+"/vectorize", tc.body)
			require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
			var vr VectorizeResponse
			require.NoError(t, json.Unmarshal(body, &vr))
			require.NotNil(t, vr.TextVectors, "an empty list, not null")
			require.NotNil(t, vr.ImageVectors)
			require.Len(t, vr.TextVectors, tc.texts)
			require.Len(t, vr.ImageVectors, tc.image)
			if tc.texts > 0 {
				assert.Equal(t, embedText(t, m, "a dog"), vr.TextVectors[0])
			}
			if tc.image > 0 {
				assert.Equal(t, embedImageBytes(t, m, png), vr.ImageVectors[0])
			}
		})
	}

	resp, body := postJSON(t, base+"/vectorize", `{"images":["!!"]}`)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	var e errorBody
	require.NoError(t, json.Unmarshal(body, &e))
	assert.Contains(t, e.Error, "image 0")

	resp, body = getBody(t, base+"/meta")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var meta map[string]map[string]any
	require.NoError(t, json.Unmarshal(body, &meta))
	assert.Equal(t, "tiny.clip", meta["model"]["name"])
	assert.EqualValues(t, randclip.Tiny.Embed, meta["model"]["dim"])
	for _, p := range []string{"/.well-known/live", "/.well-known/ready"} {
		resp, _ = getBody(t, base+p)
		assert.Equal(t, http.StatusNoContent, resp.StatusCode, p)
	}
}

func TestCompactJSONArray(t *testing.T) {
	v := []float32{0.1, -1e-5, 3, float32(math.Pi), 1e20}
	s := compactJSONArray(v)
	assert.Equal(t, "[0.1,-1e-05,3,3.1415927,1e+20]", s)
	var back []float32
	require.NoError(t, json.Unmarshal([]byte(s), &back))
	assert.Equal(t, v, back)
	assert.Equal(t, "[]", compactJSONArray(nil))
}
