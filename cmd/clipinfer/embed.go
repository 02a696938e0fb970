package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/clipinfer/clipinfer/internal/atomicfile"
	"github.com/clipinfer/clipinfer/npy"
	clip "github.com/clipinfer/clipinfer/runtime"
)

func init() {
	register("embed", command{
		summary: "Print L2-normalised embeddings of texts and images as JSON lines ({\"type\",\"input\",\"embedding\"}) or a .npy matrix.",
		usage:   "-m MODEL [-text T]... [-image PATH]... [-tokens \"3 17 42\"]... [-features FILE]... [-o FILE] [-format jsonl|npy]",
		run:     runEmbed,
	})
}

// input is one thing to embed, in command-line order.
type input struct{ kind, value string }

// inputList collects -text/-image/-tokens/-features in the order given.
type inputList struct {
	kind string
	all  *[]input
}

func (l inputList) String() string { return "" }
func (l inputList) Set(v string) error {
	*l.all = append(*l.all, input{l.kind, v})
	return nil
}

// embedded is one JSON line of clipinfer embed.
type embedded struct {
	Type      string    `json:"type"`
	Input     string    `json:"input"`
	Embedding []float32 `json:"embedding"`
}

func runEmbed(e *env, args []string) error {
	fs := flags(e, "embed")
	var mf modelFlags
	mf.add(fs, true, runsTowers, readsImages)
	var ins []input
	fs.Var(inputList{"text", &ins}, "text", "a text to embed (repeatable)")
	fs.Var(inputList{"image", &ins}, "image", "an image file to embed (repeatable)")
	fs.Var(inputList{"tokens", &ins}, "tokens", "token ids separated by spaces, e.g. \"3 17 42\" (repeatable)")
	fs.Var(inputList{"features", &ins}, "features", "SimpleCLIP image features: a .npy ([D] or [N,D]) or .json (array or array of arrays) file (repeatable)")
	out := fs.String("o", "", "write to FILE instead of stdout (atomically); with -format npy also FILE's .jsonl sidecar")
	form := fs.String("format", "jsonl", "jsonl or npy")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := required(fs, "m"); err != nil {
		return err
	}
	if err := nargs(fs, 0, 0, ""); err != nil {
		return err
	}
	if len(ins) == 0 {
		return usagef("nothing to embed: give -text, -image, -tokens or -features")
	}
	if *form != "jsonl" && *form != "npy" {
		return usagef("unknown -format %q (want jsonl or npy)", *form)
	}
	if *form == "npy" && *out == "" {
		return usagef("-format npy needs -o FILE")
	}
	m, err := mf.open()
	if err != nil {
		return err
	}
	defer m.Close()
	rows, err := embedInputs(m, ins)
	if err != nil {
		return err
	}
	if *form == "npy" {
		d := m.EmbedDim()
		flat := make([]float32, 0, len(rows)*d)
		for _, r := range rows {
			flat = append(flat, r.Embedding...)
		}
		if err := atomicfile.Write(*out, func(w io.Writer) error { return npy.WriteFloat32(w, flat, []int{len(rows), d}) }); err != nil {
			return err
		}
		side := strings.TrimSuffix(*out, filepath.Ext(*out)) + ".jsonl"
		return atomicfile.Write(side, func(w io.Writer) error {
			enc := json.NewEncoder(w)
			for i, r := range rows {
				if err := enc.Encode(struct {
					Row   int    `json:"row"`
					Type  string `json:"type"`
					Input string `json:"input"`
				}{i, r.Type, r.Input}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	write := func(w io.Writer) error {
		enc := json.NewEncoder(w)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	if *out != "" {
		return atomicfile.Write(*out, write)
	}
	return write(e.stdout)
}

// embedInputs embeds every input, batching consecutive inputs of a kind.
func embedInputs(m *clip.Model, ins []input) ([]embedded, error) {
	var rows []embedded
	for lo := 0; lo < len(ins); {
		hi := lo + 1
		for hi < len(ins) && ins[hi].kind == ins[lo].kind && hi-lo < 16 {
			hi++
		}
		got, err := embedBatch(m, ins[lo:hi])
		if err != nil {
			return nil, err
		}
		rows = append(rows, got...)
		lo = hi
	}
	return rows, nil
}

func embedBatch(m *clip.Model, ins []input) ([]embedded, error) {
	var vals []string
	for _, in := range ins {
		vals = append(vals, in.value)
	}
	kind := ins[0].kind
	var embs [][]float32
	var err error
	switch kind {
	case "text":
		embs, err = m.EmbedTexts(vals)
	case "image":
		embs, err = m.EmbedImageFiles(vals)
	case "tokens":
		ids := make([][]int32, len(vals))
		for i, v := range vals {
			if ids[i], err = parseTokens(v); err != nil {
				return nil, err
			}
		}
		embs, err = m.EmbedTokens(ids)
	case "features":
		var feats [][]float32
		var names []string
		for _, v := range vals {
			f, err := clip.ReadFeatures(v)
			if err != nil {
				return nil, err
			}
			for i := range f {
				feats = append(feats, f[i])
				if len(f) == 1 {
					names = append(names, v)
				} else {
					names = append(names, fmt.Sprintf("%s[%d]", v, i))
				}
			}
		}
		vals = names
		embs, err = m.EmbedFeatures(feats)
	}
	if err != nil {
		return nil, err
	}
	out := make([]embedded, len(embs))
	for i := range embs {
		out[i] = embedded{Type: kindType(kind), Input: vals[i], Embedding: embs[i]}
	}
	return out, nil
}

func kindType(kind string) string {
	if kind == "image" || kind == "features" {
		return "image"
	}
	return "text"
}

func parseTokens(s string) ([]int32, error) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return nil, fmt.Errorf("-tokens %q has no ids", s)
	}
	ids := make([]int32, len(f))
	for i, x := range f {
		n, err := strconv.ParseInt(x, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("-tokens %q: %q is not an integer id", s, x)
		}
		ids[i] = int32(n)
	}
	return ids, nil
}
