package server

// Weaviate's multi2vec-clip inference protocol, so that a Weaviate
// instance can use clipinfer as its CLIP_INFERENCE_API:
//
//	POST /vectorize          {"texts":[…],"images":["<base64>",…]}
//	GET  /meta               a JSON object describing the model
//	GET  /.well-known/live   204
//	GET  /.well-known/ready  204
//
// /vectorize answers {"textVectors":[[…]],"imageVectors":[[…]]}, an empty
// list for a modality not sent; Weaviate's Go client sends absent lists as
// null. Errors are {"error":"…"} with a status above 399, which the client
// reports as "fail with status N: …".

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
)

func (s *Server) routeWeaviate() {
	s.routeWith("POST /vectorize", "weaviate", writeNativeError, s.handleVectorize)
	s.routeWith("GET /meta", "weaviate", writeNativeError, s.handleMeta)
	ready := func(w http.ResponseWriter, r *http.Request) error {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	s.routeWith("GET /.well-known/live", "weaviate", writeNativeError, ready)
	s.routeWith("GET /.well-known/ready", "weaviate", writeNativeError, ready)
}

// VectorizeResponse is the body of a successful POST /vectorize.
type VectorizeResponse struct {
	TextVectors  [][]float32 `json:"textVectors"`
	ImageVectors [][]float32 `json:"imageVectors"`
}

func (s *Server) handleVectorize(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Texts  []string `json:"texts"`
		Images []string `json:"images"`
	}
	// Unknown fields are ignored, as the Python service does: newer
	// Weaviate versions may send more than these two lists.
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return err
		}
		if errors.Is(err, io.EOF) {
			return badRequest("empty body: send a JSON object")
		}
		return badRequest("JSON body: %v", err)
	}
	if n := len(req.Texts) + len(req.Images); n > s.cfg.MaxBatch {
		return badRequest("%d inputs, at most %d per request", n, s.cfg.MaxBatch)
	}
	images := make([][]byte, len(req.Images))
	for i, enc := range req.Images {
		var err error
		if images[i], err = decodeBase64(enc); err != nil {
			return badRequest("image %d: %v", i, err)
		}
	}
	resp := VectorizeResponse{TextVectors: [][]float32{}, ImageVectors: [][]float32{}}
	if in := nativeInputs(req.Texts, images); len(in) > 0 {
		out, err := s.embedInputs(r.Context(), in)
		if err != nil {
			return err
		}
		for i, e := range out {
			if i < len(req.Texts) {
				resp.TextVectors = append(resp.TextVectors, e.vec)
			} else {
				resp.ImageVectors = append(resp.ImageVectors, e.vec)
			}
		}
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func (s *Server) handleMeta(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{
		"model": map[string]any{
			"name":        s.cfg.ModelName,
			"aliases":     s.cfg.Aliases,
			"fingerprint": s.cfg.Fingerprint,
			"dim":         s.cfg.Model.EmbedDim(),
			"runtime":     "clipinfer",
		},
	})
	return nil
}
