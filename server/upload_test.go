package server

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/clipinfer/clipinfer/convert"
	"github.com/clipinfer/clipinfer/index"
	"github.com/clipinfer/clipinfer/internal/randclip"
	clip "github.com/clipinfer/clipinfer/runtime"
)

// exifJPEG is a 300×200 photo stored on its side with EXIF orientation 6
// (imageproc's Pillow fixture): displayed 200×300.
const exifJPEG = "../imageproc/testdata/photo/orient6_300x200.jpg"

// TestUploadsDecodeAsFiles posts a JPEG with EXIF orientation 6 to every
// protocol over real HTTP and checks that each answers with the vector the
// runtime computes for the same file with the same options, bit for bit:
// turned by default, as stored with IgnoreEXIF, and at a reduced scale
// with FastDecode.
func TestUploadsDecodeAsFiles(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "tiny.safetensors"), filepath.Join(dir, "tiny.clip")
	require.NoError(t, randclip.WriteSafetensors(src, randclip.Tiny, 1))
	_, err := convert.Convert(src, dst, convert.Options{Quant: "q8"})
	require.NoError(t, err)
	jpg, err := os.ReadFile(exifJPEG)
	require.NoError(t, err)

	// fileVector is what embed/index compute for the file.
	fileVector := func(opt clip.Options) []float32 {
		opt.Threads = 1
		m, err := clip.Open(dst, opt)
		require.NoError(t, err)
		defer m.Close()
		e, err := m.EmbedImageFiles([]string{exifJPEG})
		require.NoError(t, err)
		return e[0]
	}
	upright := fileVector(clip.Options{})
	stored := fileVector(clip.Options{IgnoreEXIF: true})
	fast := fileVector(clip.Options{FastDecode: true})
	require.NotEqual(t, upright, stored, "the orientation changes the vector")
	require.NotEqual(t, upright, fast, "fast decoding changes the vector")

	m, err := clip.Open(dst, clip.Options{Threads: 1})
	require.NoError(t, err)
	defer m.Close()
	fp, err := m.Fingerprint()
	require.NoError(t, err)
	idx, err := index.New(index.ModelInfo{Fingerprint: fp, Dim: m.EmbedDim()}, index.Float16)
	require.NoError(t, err)
	for path, v := range map[string][]float32{"/upright": upright, "/stored": stored, "/fast": fast} {
		require.NoError(t, idx.Add(index.Entry{Path: path}, v))
	}
	tests := []struct {
		name         string
		entry        string
		cfg          Config
		want         []float32
		wantW, wantH int
		images       ImageDecoding
	}{
		{"default: EXIF orientation", "/upright", Config{}, upright, 200, 300, ImageDecoding{EXIFOrientation: true}},
		{"IgnoreEXIF: as stored", "/stored", Config{IgnoreEXIF: true}, stored, 300, 200, ImageDecoding{}},
		// Decoded at 1/4 scale; Immich is still told the photo's size.
		{"FastDecode", "/fast", Config{FastDecode: true}, fast, 200, 300, ImageDecoding{EXIFOrientation: true, FastDecode: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Model, cfg.ModelName, cfg.Aliases = m, "tiny.clip", []string{"ViT-B-32__openai"}
			cfg.Fingerprint, cfg.Index = fp, idx
			base := start(t, newServer(t, cfg))
			b64 := base64.StdEncoding.EncodeToString(jpg)

			resp, body := getBody(t, base+"/healthz")
			require.Equal(t, http.StatusOK, resp.StatusCode)
			var h Health
			require.NoError(t, json.Unmarshal(body, &h))
			assert.Equal(t, tc.images, h.Images, "/healthz reports the decoding")

			// clipinfer's JSON body.
			resp, body = postJSON(t, base+"/v1/embeddings", map[string]any{"images": []string{b64}})
			require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
			var er floatEmbeddings
			require.NoError(t, json.Unmarshal(body, &er))
			require.Len(t, er.Data, 1)
			assert.Equal(t, tc.want, er.Data[0].Embedding, "/v1/embeddings JSON")

			// OpenAI's input list with a data URL.
			resp, body = postJSON(t, base+"/v1/embeddings", map[string]any{"model": "tiny.clip",
				"input": []map[string]string{{"image": "data:image/jpeg;base64," + b64}}})
			require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
			require.NoError(t, json.Unmarshal(body, &er))
			require.Len(t, er.Data, 1)
			assert.Equal(t, tc.want, er.Data[0].Embedding, "/v1/embeddings input list")

			// Multipart.
			var mb bytes.Buffer
			mw := multipart.NewWriter(&mb)
			fw, err := mw.CreateFormFile("image", "photo.jpg")
			require.NoError(t, err)
			_, err = fw.Write(jpg)
			require.NoError(t, err)
			require.NoError(t, mw.Close())
			resp, body = postForm(t, base+"/v1/embeddings", mw.FormDataContentType(), &mb)
			require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
			require.NoError(t, json.Unmarshal(body, &er))
			require.Len(t, er.Data, 1)
			assert.Equal(t, tc.want, er.Data[0].Embedding, "/v1/embeddings multipart")

			// Immich: the vector, and the size decoded, as displayed.
			ct, ib := immichForm(t, `{"clip":{"visual":{"modelName":"ViT-B-32__openai"}}}`, jpg, nil)
			resp, body = postForm(t, base+"/predict", ct, ib)
			require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
			var visual struct {
				Clip        string `json:"clip"`
				ImageHeight int    `json:"imageHeight"`
				ImageWidth  int    `json:"imageWidth"`
			}
			require.NoError(t, json.Unmarshal(body, &visual))
			var got []float32
			require.NoError(t, json.Unmarshal([]byte(visual.Clip), &got))
			assert.Equal(t, tc.want, got, "Immich /predict")
			assert.Equal(t, tc.wantW, visual.ImageWidth)
			assert.Equal(t, tc.wantH, visual.ImageHeight)

			// Weaviate.
			resp, body = postJSON(t, base+"/vectorize", `{"images":["`+b64+`"]}`)
			require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
			var vr VectorizeResponse
			require.NoError(t, json.Unmarshal(body, &vr))
			require.Len(t, vr.ImageVectors, 1)
			assert.Equal(t, tc.want, vr.ImageVectors[0], "Weaviate /vectorize")

			// Search by image: the file's own entry comes first, scoring 1
			// (the exact and fast vectors differ by a cosine of 3e-4).
			resp, body = postJSON(t, base+"/v1/search", map[string]any{"image": b64, "k": 3})
			require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
			var sr SearchResponse
			require.NoError(t, json.Unmarshal(body, &sr))
			require.Len(t, sr.Results, 3)
			t.Logf("search: %+v", sr.Results)
			assert.Equal(t, tc.entry, sr.Results[0].Path, "/v1/search image")
			assert.InDelta(t, 1, sr.Results[0].Score, 1e-4, "/v1/search image")
			assert.Less(t, sr.Results[1].Score, float32(0.9999))

			// Classify: the cosines are those of the file's vector.
			labels := []string{"a cat", "a dog"}
			resp, body = postJSON(t, base+"/v1/classify", map[string]any{"labels": labels, "templates": []string{"{}"}, "images": []string{b64}, "k": 2})
			require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
			var cr ClassifyResponse
			require.NoError(t, json.Unmarshal(body, &cr))
			require.Len(t, cr.Results, 1)
			for _, l := range cr.Results[0].Labels {
				var dot float32
				for i, v := range embedText(t, m, l.Label) {
					dot += v * tc.want[i]
				}
				assert.InDelta(t, dot, l.Cosine, 1e-5, "/v1/classify %s", l.Label)
			}
		})
	}
}

// FastDecode needs the model's input size.
func TestFastDecodeNeedsImageConfig(t *testing.T) {
	_, err := New(Config{Model: &fakeModel{}, FastDecode: true})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "FastDecode")
}
