package server

// Immich's machine-learning protocol, so that an Immich server can use
// clipinfer as its remote machine-learning URL for smart search:
//
//	GET  /ping     "pong" (text/plain): Immich's availability check
//	GET  /         {"message":"Immich ML"}
//	POST /predict  multipart: "entries" (JSON), and an "image" file or a "text" field
//
// "entries" names a task, a model type and a model, e.g.
// {"clip":{"visual":{"modelName":"ViT-B-32__openai"}}} or
// {"clip":{"textual":{"modelName":"…","options":{"language":"en"}}}}. The
// answer holds the embedding as a string of a compact JSON array (Immich
// stores that string as it is), and for images the displayed size:
// {"clip":"[0.0123,-0.045,…]","imageHeight":h,"imageWidth":w}. Errors are
// FastAPI's {"detail":"…"}: 422 for malformed entries, 400 for a request
// without input, and a 4xx naming what clipinfer does not serve (tasks
// other than "clip", other models).

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"sort"
	"strconv"
)

func (s *Server) routeImmich() {
	s.routeWith("GET /ping", "immich", writeImmichError, func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "pong")
		return nil
	})
	s.routeWith("GET /{$}", "immich", writeImmichError, func(w http.ResponseWriter, r *http.Request) error {
		writeJSON(w, http.StatusOK, map[string]string{"message": "Immich ML"})
		return nil
	})
	s.routeWith("POST /predict", "immich", writeImmichError, s.handlePredict)
}

func writeImmichError(w http.ResponseWriter, code int, msg string, _ error) {
	writeJSON(w, code, map[string]string{"detail": msg})
}

// immichEntry is one model of an Immich "entries" object.
type immichEntry struct {
	ModelName *string        `json:"modelName"`
	Options   map[string]any `json:"options"`
}

// errBadEntries is Immich's own message for entries it cannot read.
var errBadEntries = &httpError{http.StatusUnprocessableEntity, errors.New("Invalid request format.")}

func (s *Server) handlePredict(w http.ResponseWriter, r *http.Request) error {
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "multipart/form-data" || params["boundary"] == "" {
		return errBadEntries
	}
	if err := r.ParseMultipartForm(s.cfg.MaxBodyBytes); err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return err
		}
		return badRequest("multipart body: %v", err)
	}
	defer r.MultipartForm.RemoveAll()
	form := r.MultipartForm
	if len(form.Value["entries"]) != 1 {
		return errBadEntries
	}
	var entries map[string]map[string]immichEntry
	if json.Unmarshal([]byte(form.Value["entries"][0]), &entries) != nil || len(entries) == 0 {
		return errBadEntries
	}
	var img []byte
	if files := form.File["image"]; len(files) > 0 {
		f, err := files[0].Open()
		if err != nil {
			return badRequest("image: %v", err)
		}
		img, err = io.ReadAll(f)
		f.Close()
		if err != nil {
			return badRequest("image: %v", err)
		}
	}
	text, hasText := "", len(form.Value["text"]) > 0
	if hasText {
		text = form.Value["text"][0]
	}
	if img == nil && !hasText {
		return badRequest("Either image or text must be provided")
	}
	want, sent := "textual", "a text"
	if img != nil {
		want, sent = "visual", "an image"
	}
	tasks := make([]string, 0, len(entries))
	for task := range entries {
		tasks = append(tasks, task)
	}
	sort.Strings(tasks)
	var entry *immichEntry
	for _, task := range tasks {
		types := entries[task]
		if task != "clip" {
			return badRequest("task %q is not served by clipinfer: it serves only \"clip\" (smart search)", task)
		}
		for typ, e := range types {
			if e.ModelName == nil {
				return errBadEntries
			}
			if typ != "visual" && typ != "textual" {
				return badRequest("clip model type %q: want \"visual\" or \"textual\"", typ)
			}
			if typ != want {
				return badRequest("entries ask for the %s clip model but the request sends %s", typ, sent)
			}
			if !s.servesModel(*e.ModelName) {
				return s.unknownModel(*e.ModelName)
			}
			entry = &e
		}
	}
	if entry == nil {
		return errBadEntries
	}
	in := input{kind: textInput, text: text}
	if img != nil {
		in = input{kind: imageInput, image: img}
	}
	out, err := s.embedInputs(r.Context(), []input{in})
	if err != nil {
		return err
	}
	resp := map[string]any{"clip": compactJSONArray(out[0].vec)}
	if img != nil {
		resp["imageHeight"], resp["imageWidth"] = out[0].height, out[0].width
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// compactJSONArray formats v as a JSON array without spaces, each value in
// the shortest form that reads back as the same float32.
func compactJSONArray(v []float32) string {
	b := make([]byte, 0, 12*len(v)+2)
	b = append(b, '[')
	for i, x := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendFloat(b, float64(x), 'g', -1, 32)
	}
	return string(append(b, ']'))
}
