package server

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/clipinfer/clipinfer/analysis"
	"github.com/clipinfer/clipinfer/store"
)

// httpError carries a status code with an error.
type httpError struct {
	code int
	err  error
}

func (e *httpError) Error() string { return e.err.Error() }
func (e *httpError) Unwrap() error { return e.err }

func badRequest(f string, args ...any) error {
	return &httpError{http.StatusBadRequest, fmt.Errorf(f, args...)}
}

// classify maps an error to a status code and a message.
func classify(err error) (int, string) {
	var he *httpError
	var mb *http.MaxBytesError
	switch {
	case errors.As(err, &mb):
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", mb.Limit)
	case errors.Is(err, errBusy), errors.Is(err, errTimeout):
		return http.StatusServiceUnavailable, err.Error()
	case errors.Is(err, errGone):
		return statusClientClosed, err.Error()
	case errors.As(err, &he):
		return he.code, he.err.Error()
	}
	return http.StatusInternalServerError, err.Error()
}

// statusClientClosed is recorded for requests whose client went away
// (nginx's convention; the client never sees it).
const statusClientClosed = 499

// errorBody is every error response.
type errorBody struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorBody{msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client may have gone; nothing more to do
}

// request is the union of every endpoint's JSON fields.
type request struct {
	Texts     []string        `json:"texts"`
	Input     json.RawMessage `json:"input"` // OpenAI-style alias for texts: a string or a list
	Images    []string        `json:"images"`
	Labels    []string        `json:"labels"`
	Templates []string        `json:"templates"`
	K         *int            `json:"k"` // nil: the endpoint's default
	Text      string          `json:"text"`
	Image     string          `json:"image"`

	imageData [][]byte // decoded base64 or uploaded files, in order
}

// topK returns the request's k, or def when it gives none; k < 1 is an
// error rather than a silent default.
func (req *request) topK(def int) (int, error) {
	if req.K == nil {
		return def, nil
	}
	if *req.K < 1 {
		return 0, badRequest("k = %d: must be at least 1", *req.K)
	}
	return *req.K, nil
}

// parse reads a JSON or multipart/form-data body into a request.
func (s *Server) parse(r *http.Request) (*request, error) {
	ct, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	req := &request{}
	switch {
	case ct == "multipart/form-data":
		if params["boundary"] == "" {
			return nil, badRequest("multipart body without a boundary")
		}
		if err := r.ParseMultipartForm(s.cfg.MaxBodyBytes); err != nil {
			var mb *http.MaxBytesError
			if errors.As(err, &mb) {
				return nil, err
			}
			return nil, badRequest("multipart body: %v", err)
		}
		defer r.MultipartForm.RemoveAll()
		f := r.MultipartForm.Value
		req.Texts = f["text"]
		req.Templates = f["template"]
		for _, l := range append(f["label"], f["labels"]...) {
			for _, p := range strings.Split(l, ",") {
				if p = strings.TrimSpace(p); p != "" {
					req.Labels = append(req.Labels, p)
				}
			}
		}
		if v := f["k"]; len(v) > 0 {
			k, err := strconv.Atoi(v[0])
			if err != nil {
				return nil, badRequest("k: %q is not an integer", v[0])
			}
			req.K = &k
		}
		if v := f["q"]; len(v) > 0 {
			req.Text = v[0]
		}
		for _, fh := range r.MultipartForm.File["image"] {
			fd, err := fh.Open()
			if err != nil {
				return nil, badRequest("image %q: %v", fh.Filename, err)
			}
			b, err := io.ReadAll(fd)
			fd.Close()
			if err != nil {
				return nil, badRequest("image %q: %v", fh.Filename, err)
			}
			req.imageData = append(req.imageData, b)
		}
	case ct == "application/json" || ct == "":
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(req); err != nil {
			var mb *http.MaxBytesError
			if errors.As(err, &mb) {
				return nil, err
			}
			if errors.Is(err, io.EOF) {
				return nil, badRequest("empty body: send a JSON object")
			}
			return nil, badRequest("JSON body: %v", err)
		}
		if dec.More() {
			return nil, badRequest("JSON body: more than one value")
		}
		if len(req.Input) > 0 {
			var one string
			var many []string
			switch {
			case json.Unmarshal(req.Input, &one) == nil:
				req.Texts = append(req.Texts, one)
			case json.Unmarshal(req.Input, &many) == nil:
				req.Texts = append(req.Texts, many...)
			default:
				return nil, badRequest(`"input" must be a string or a list of strings`)
			}
		}
		imgs := req.Images
		if req.Image != "" {
			imgs = append(imgs, req.Image)
		}
		if len(imgs) > s.cfg.MaxBatch {
			return nil, badRequest("%d images, at most %d per request", len(imgs), s.cfg.MaxBatch)
		}
		for i, enc := range imgs {
			b, err := decodeBase64(enc)
			if err != nil {
				return nil, badRequest("image %d: %v", i, err)
			}
			req.imageData = append(req.imageData, b)
		}
	default:
		return nil, &httpError{http.StatusUnsupportedMediaType, fmt.Errorf("content type %q: send application/json or multipart/form-data (curl -d needs -H 'Content-Type: application/json')", ct)}
	}
	for i, t := range append(append([]string(nil), req.Texts...), req.Text) {
		if len(t) > s.cfg.MaxTextBytes {
			return nil, badRequest("text %d is %d bytes long, at most %d accepted", i, len(t), s.cfg.MaxTextBytes)
		}
		if !utf8.ValidString(t) {
			return nil, badRequest("text %d is not valid UTF-8", i)
		}
	}
	return req, nil
}

// decodeBase64 accepts standard or URL-safe base64, padded or not, with an
// optional data URL prefix ("data:image/png;base64,").
func decodeBase64(s string) ([]byte, error) {
	if strings.HasPrefix(s, "data:") {
		i := strings.Index(s, ",")
		if i < 0 || !strings.HasSuffix(s[:i], ";base64") {
			return nil, errors.New("data URL is not base64")
		}
		s = s[i+1:]
	}
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	if strings.ContainsAny(s, "-_") {
		return base64.RawURLEncoding.DecodeString(s)
	}
	b, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("bad base64: %w", err)
	}
	return b, nil
}

func unprocessable(err error) error {
	return &httpError{http.StatusUnprocessableEntity, err}
}

// ClassifyResponse is the body of a successful POST /v1/classify.
type ClassifyResponse struct {
	Model     string   `json:"model"`
	Templates []string `json:"templates"`
	// Scoring is "softmax" when each image's probabilities are a softmax
	// over the given labels (CLIP), "sigmoid" when each label's is an
	// independent sigmoid (SigLIP).
	Scoring string           `json:"scoring"`
	Results []Classification `json:"results"`
}

// Classification is the top-k labels of one image.
type Classification struct {
	Index  int          `json:"index"`
	Labels []LabelScore `json:"labels"`
}

// LabelScore is one label's zero-shot probability (see
// ClassifyResponse.Scoring) and cosine similarity.
type LabelScore struct {
	Label       string  `json:"label"`
	Probability float32 `json:"probability"`
	Cosine      float32 `json:"cosine"`
}

func (s *Server) handleClassify(w http.ResponseWriter, r *http.Request) error {
	req, err := s.parse(r)
	if err != nil {
		return err
	}
	switch {
	case len(req.Labels) < 2:
		return badRequest(`give at least two "labels"`)
	case len(req.Labels) > s.cfg.MaxLabels:
		return badRequest("%d labels, at most %d", len(req.Labels), s.cfg.MaxLabels)
	case len(req.imageData) == 0:
		return badRequest(`no "images" to classify`)
	case len(req.imageData) > s.cfg.MaxBatch:
		return badRequest("%d images, at most %d per request", len(req.imageData), s.cfg.MaxBatch)
	case len(req.Templates) > 100:
		return badRequest("%d templates, at most 100", len(req.Templates))
	}
	if _, err := s.checkPixels(req.imageData); err != nil {
		return err
	}
	templates := req.Templates
	if len(templates) == 0 {
		templates = []string{analysis.DefaultTemplate}
	}
	k, err := req.topK(min(5, len(req.Labels)))
	if err != nil {
		return err
	}
	k = min(k, len(req.Labels), s.cfg.MaxK)
	resp := ClassifyResponse{Model: s.cfg.ModelName, Templates: templates}
	key := strings.Join(req.Labels, "\x00") + "\x01" + strings.Join(templates, "\x00")
	work := imageWork * len(req.imageData)
	if _, cached := s.labels.get(key); !cached {
		work += len(req.Labels) * len(templates)
	}
	err = s.computeWork(r.Context(), work, func() error {
		labels, ok := s.labels.get(key)
		if !ok {
			var err error
			labels, err = analysis.LabelEmbeddings(s.embedTextsCtx(r.Context()), req.Labels, templates)
			if err != nil {
				return unprocessable(err)
			}
			s.labels.put(key, labels)
		}
		embs, err := s.embedImageData(r.Context(), req.imageData)
		if err != nil {
			return err
		}
		for i, e := range embs {
			sc := s.cfg.Model.Score(e.vec, labels)
			resp.Scoring = string(sc.Kind)
			c := Classification{Index: i}
			for _, j := range analysis.TopK(sc.Probabilities, k) {
				c.Labels = append(c.Labels, LabelScore{Label: req.Labels[j], Probability: sc.Probabilities[j], Cosine: sc.Cosine[j]})
			}
			resp.Results = append(resp.Results, c)
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// SearchResponse is the body of a successful search.
type SearchResponse struct {
	Query   string   `json:"query"` // the text, or "image"
	Results []Result `json:"results"`
}

// Result is one search hit.
type Result struct {
	Rank  int     `json:"rank"`
	Path  string  `json:"path"`
	Score float32 `json:"score"`
}

func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Store == nil {
		return &httpError{http.StatusNotFound, errors.New("no index loaded: start the server with -index")}
	}
	var req *request
	if r.Method == http.MethodGet {
		q := r.URL.Query()
		req = &request{Text: q.Get("q")}
		if v := q.Get("k"); v != "" {
			k, err := strconv.Atoi(v)
			if err != nil {
				return badRequest("k: %q is not an integer", v)
			}
			req.K = &k
		}
		if len(req.Text) > s.cfg.MaxTextBytes || !utf8.ValidString(req.Text) {
			return badRequest("q must be valid UTF-8 of at most %d bytes", s.cfg.MaxTextBytes)
		}
	} else {
		var err error
		if req, err = s.parse(r); err != nil {
			return err
		}
		if req.Text == "" && len(req.Texts) == 1 {
			req.Text = req.Texts[0]
		}
	}
	switch {
	case len(req.Texts) > 1 || (len(req.Texts) == 1 && req.Text != req.Texts[0]):
		return badRequest("give one query: a text or an image")
	case req.Text == "" && len(req.imageData) == 0:
		return badRequest(`give a query: "q" (GET), "text" or "image"`)
	case req.Text != "" && len(req.imageData) > 0, len(req.imageData) > 1:
		return badRequest("give one query: a text or an image")
	}
	k, err := req.topK(10)
	if err != nil {
		return err
	}
	if k > s.cfg.MaxK {
		return badRequest("k = %d, at most %d", k, s.cfg.MaxK)
	}
	resp := SearchResponse{Query: req.Text}
	err = s.compute(r.Context(), func() error {
		var q [][]float32
		var err error
		if req.Text != "" {
			if q, err = s.embedTexts(r.Context(), []string{req.Text}); err != nil {
				return err
			}
			s.metrics.texts.Add(1)
		} else {
			resp.Query = "image"
			embs, err := s.embedImageData(r.Context(), req.imageData)
			if err != nil {
				return err
			}
			q = [][]float32{embs[0].vec}
		}
		hits, err := s.searchStore(r.Context(), q[0], k)
		if err != nil {
			return err
		}
		resp.Results = make([]Result, len(hits))
		for i, h := range hits {
			resp.Results[i] = Result{Rank: i + 1, Path: h.Path, Score: h.Score}
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// Health is the body of GET /healthz.
type Health struct {
	Status       string `json:"status"`
	Model        string `json:"model"`
	Fingerprint  string `json:"fingerprint,omitempty"`
	Dim          int    `json:"dim"`
	IndexEntries int    `json:"index_entries"`
	InFlight     int64  `json:"in_flight"`
	// Index describes the index serving /v1/search, if any.
	Index *store.Status `json:"index,omitempty"`
	// Images is how uploaded images are decoded.
	Images ImageDecoding `json:"images"`
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) error {
	h := Health{Status: "ok", Model: s.cfg.ModelName, Fingerprint: s.cfg.Fingerprint, Dim: s.cfg.Model.EmbedDim(), InFlight: s.metrics.inFlight.Load(), Images: s.imageDecoding()}
	code := http.StatusOK
	if s.cfg.Store != nil {
		st := s.storeStatus(r.Context())
		h.Index, h.IndexEntries = &st, st.Entries
		if !st.Ready {
			h.Status, code = "unready", http.StatusServiceUnavailable
		}
	}
	writeJSON(w, code, h)
	return nil
}
