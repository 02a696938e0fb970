package server

// OpenAI's embeddings protocol, so that OpenAI's SDKs (and anything built
// on them) can use clipinfer by changing their base URL:
//
//	POST /v1/embeddings  {"model","input","encoding_format","dimensions","user"}
//	GET  /v1/models      the model under each name it answers to
//	GET  /v1/models/{id}
//
// "input" is a string, a list of strings, a list of token ids or a list of
// such lists, as OpenAI's API takes it; images come through an extension
// (as Jina's API does): list items {"image":"<base64 or data URL>"} and
// {"text":"…"}. clipinfer's own {"texts":[…],"images":[…]} and multipart
// bodies are accepted too. The answer is OpenAI's, vectors as float arrays
// or, with "encoding_format":"base64" (the default of OpenAI's Node SDK),
// as base64 of little-endian float32. Errors are OpenAI's
// {"error":{"message","type","param","code"}}.

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strings"
)

func (s *Server) routeOpenAI() {
	s.routeWith("POST /v1/embeddings", "embeddings", writeOpenAIError, s.handleEmbeddings)
	s.routeWith("GET /v1/models", "models", writeOpenAIError, s.handleModels)
	s.routeWith("GET /v1/models/{id...}", "models", writeOpenAIError, s.handleModel)
}

// embeddingsRequest is OpenAI's request plus clipinfer's own fields.
type embeddingsRequest struct {
	Model          string          `json:"model"`
	Input          json.RawMessage `json:"input"`
	EncodingFormat string          `json:"encoding_format"`
	Dimensions     *int            `json:"dimensions"`
	User           string          `json:"user"`
	Texts          []string        `json:"texts"`
	Images         []string        `json:"images"`
}

// EmbeddingsResponse is the body of a successful POST /v1/embeddings
// (OpenAI's shape).
type EmbeddingsResponse struct {
	Object string      `json:"object"` // "list"
	Data   []Embedding `json:"data"`
	Model  string      `json:"model"`
	Usage  Usage       `json:"usage"`
}

// Embedding is one input's vector: a []float32, or a string holding the
// base64 of its little-endian float32 bytes.
type Embedding struct {
	Object    string `json:"object"` // "embedding"
	Index     int    `json:"index"`
	Embedding any    `json:"embedding"`
}

// Usage counts the text tokens of a request (before padding; images count
// none).
type Usage struct {
	PromptTokens int `json:"prompt_tokens"`
	TotalTokens  int `json:"total_tokens"`
}

// paramError is a 400 that names the offending request parameter.
type paramError struct {
	param string
	msg   string
}

func (e *paramError) Error() string { return e.msg }

func badParam(param, f string, args ...any) error {
	return &httpError{http.StatusBadRequest, &paramError{param, fmt.Sprintf(f, args...)}}
}

// openAIError is OpenAI's error body.
type openAIError struct {
	Error openAIErrorDetail `json:"error"`
}

type openAIErrorDetail struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

func writeOpenAIError(w http.ResponseWriter, code int, msg string, err error) {
	d := openAIErrorDetail{Message: msg, Type: "invalid_request_error"}
	var pe *paramError
	if errors.As(err, &pe) {
		d.Param = &pe.param
	}
	var c string
	switch {
	case code == http.StatusNotFound && strings.HasPrefix(msg, "model "):
		c, d.Param = "model_not_found", ptr("model")
	case code == http.StatusServiceUnavailable:
		d.Type = "server_error"
	case code >= 500:
		d.Type = "server_error"
	}
	if c != "" {
		d.Code = &c
	}
	writeJSON(w, code, openAIError{d})
}

func ptr(s string) *string { return &s }

func (s *Server) handleEmbeddings(w http.ResponseWriter, r *http.Request) error {
	req, in, err := s.parseEmbeddings(r)
	if err != nil {
		return err
	}
	if !s.servesModel(req.Model) {
		return s.unknownModel(req.Model)
	}
	switch req.EncodingFormat {
	case "", "float", "base64":
	default:
		return badParam("encoding_format", "encoding_format %q: use \"float\" or \"base64\"", req.EncodingFormat)
	}
	if req.Dimensions != nil && *req.Dimensions != s.cfg.Model.EmbedDim() {
		return badParam("dimensions", "dimensions = %d: this model makes %d-d embeddings and does not shorten them", *req.Dimensions, s.cfg.Model.EmbedDim())
	}
	if len(in) == 0 {
		return badParam("input", `nothing to embed: give "input"`)
	}
	out, err := s.embedInputs(r.Context(), in)
	if err != nil {
		return err
	}
	name := req.Model
	if name == "" {
		name = s.cfg.ModelName
	}
	resp := EmbeddingsResponse{Object: "list", Model: name, Data: make([]Embedding, len(out))}
	for i, e := range out {
		var v any = e.vec
		if req.EncodingFormat == "base64" {
			v = float32Base64(e.vec)
		}
		resp.Data[i] = Embedding{Object: "embedding", Index: i, Embedding: v}
		resp.Usage.PromptTokens += e.tokens
	}
	resp.Usage.TotalTokens = resp.Usage.PromptTokens
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// float32Base64 is the base64 of v's little-endian float32 bytes.
func float32Base64(v []float32) string {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return base64.StdEncoding.EncodeToString(b)
}

// parseEmbeddings reads a JSON body (OpenAI's or clipinfer's fields) or a
// multipart body (clipinfer's "text" and "image" parts) into inputs.
func (s *Server) parseEmbeddings(r *http.Request) (*embeddingsRequest, []input, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "multipart/form-data" {
		legacy, err := s.parse(r)
		if err != nil {
			return nil, nil, err
		}
		req := &embeddingsRequest{}
		if v := r.MultipartForm; v != nil && len(v.Value["model"]) > 0 {
			req.Model = v.Value["model"][0]
		}
		return req, nativeInputs(legacy.Texts, legacy.imageData), nil
	}
	if ct != "application/json" && ct != "" {
		return nil, nil, &httpError{http.StatusUnsupportedMediaType, fmt.Errorf("content type %q: send application/json or multipart/form-data", ct)}
	}
	req := &embeddingsRequest{}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(req); err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, nil, err
		}
		if errors.Is(err, io.EOF) {
			return nil, nil, badRequest("empty body: send a JSON object")
		}
		return nil, nil, badRequest("JSON body: %v", err)
	}
	if dec.More() {
		return nil, nil, badRequest("JSON body: more than one value")
	}
	in, err := parseOpenAIInput(req.Input, s.cfg.MaxBatch)
	if err != nil {
		return nil, nil, err
	}
	if len(req.Images) > s.cfg.MaxBatch {
		return nil, nil, badRequest("%d images, at most %d per request", len(req.Images), s.cfg.MaxBatch)
	}
	images := make([][]byte, len(req.Images))
	for i, enc := range req.Images {
		if images[i], err = decodeBase64(enc); err != nil {
			return nil, nil, badRequest("image %d: %v", i, err)
		}
	}
	return req, append(in, nativeInputs(req.Texts, images)...), nil
}

// nativeInputs is clipinfer's own request: texts first, then images.
func nativeInputs(texts []string, images [][]byte) []input {
	in := make([]input, 0, len(texts)+len(images))
	for _, t := range texts {
		in = append(in, input{kind: textInput, text: t})
	}
	for _, b := range images {
		in = append(in, input{kind: imageInput, image: b})
	}
	return in
}

// parseOpenAIInput reads "input": a string, a list of strings, a list of
// token ids (one input), a list of token-id lists, or a list mixing strings
// and {"text"}/{"image"} objects. At most max items are read.
func parseOpenAIInput(raw json.RawMessage, max int) ([]input, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var one string
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &one); err != nil {
			return nil, badParam("input", "input: %v", err)
		}
		return []input{{kind: textInput, text: one}}, nil
	}
	var items []json.RawMessage
	if raw[0] != '[' || json.Unmarshal(raw, &items) != nil {
		return nil, badParam("input", `"input" must be a string, a list of strings, a list of token ids or a list of token-id lists`)
	}
	if len(items) == 0 {
		return nil, badParam("input", `"input" is an empty list`)
	}
	if len(items) > max {
		return nil, badParam("input", "%d inputs, at most %d per request", len(items), max)
	}
	// A list of numbers is one token-id input.
	if c := bytes.TrimSpace(items[0]); len(c) > 0 && (c[0] == '-' || c[0] >= '0' && c[0] <= '9') {
		ids, err := tokenIDs(raw)
		if err != nil {
			return nil, err
		}
		return []input{{kind: tokenInput, tokens: ids}}, nil
	}
	in := make([]input, len(items))
	for i, it := range items {
		it = bytes.TrimSpace(it)
		if len(it) == 0 {
			return nil, badParam("input", "input %d is empty", i)
		}
		switch it[0] {
		case '"':
			var t string
			if err := json.Unmarshal(it, &t); err != nil {
				return nil, badParam("input", "input %d: %v", i, err)
			}
			in[i] = input{kind: textInput, text: t}
		case '[':
			ids, err := tokenIDs(it)
			if err != nil {
				return nil, err
			}
			in[i] = input{kind: tokenInput, tokens: ids}
		case '{':
			var obj struct {
				Text  *string `json:"text"`
				Image *string `json:"image"`
			}
			dec := json.NewDecoder(bytes.NewReader(it))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&obj); err != nil {
				return nil, badParam("input", `input %d: want {"text":"…"} or {"image":"<base64>"}: %v`, i, err)
			}
			switch {
			case obj.Text != nil && obj.Image == nil:
				in[i] = input{kind: textInput, text: *obj.Text}
			case obj.Image != nil && obj.Text == nil:
				b, err := decodeBase64(*obj.Image)
				if err != nil {
					return nil, badParam("input", "input %d: image: %v", i, err)
				}
				in[i] = input{kind: imageInput, image: b}
			default:
				return nil, badParam("input", `input %d: give exactly one of "text" and "image"`, i)
			}
		default:
			return nil, badParam("input", "input %d: want a string, a token-id list or an object", i)
		}
	}
	return in, nil
}

// tokenIDs reads a JSON list of token ids.
func tokenIDs(raw json.RawMessage) ([]int32, error) {
	var ids []int32
	if err := json.Unmarshal(raw, &ids); err != nil {
		return nil, badParam("input", "token ids: %v", err)
	}
	if len(ids) == 0 {
		return nil, badParam("input", "empty token-id list")
	}
	return ids, nil
}

// Model is one entry of GET /v1/models.
type ModelInfo struct {
	ID      string `json:"id"`
	Object  string `json:"object"` // "model"
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

// ModelList is the body of GET /v1/models.
type ModelList struct {
	Object string      `json:"object"` // "list"
	Data   []ModelInfo `json:"data"`
}

func (s *Server) modelInfo(name string) ModelInfo {
	var created int64
	if !s.cfg.Created.IsZero() {
		created = s.cfg.Created.Unix()
	}
	return ModelInfo{ID: name, Object: "model", Created: created, OwnedBy: "clipinfer"}
}

func (s *Server) handleModels(w http.ResponseWriter, r *http.Request) error {
	list := ModelList{Object: "list"}
	for _, n := range s.modelNames() {
		list.Data = append(list.Data, s.modelInfo(n))
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

func (s *Server) handleModel(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if id == "" || !s.servesModel(id) {
		return s.unknownModel(id)
	}
	writeJSON(w, http.StatusOK, s.modelInfo(id))
	return nil
}
