package checkpoint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// HFTokenizer is a byte-level BPE vocabulary and merge list.
type HFTokenizer struct {
	// Vocab maps tokens to ids.
	Vocab map[string]int
	// Merges are the merge rules in rank order (first = highest priority).
	Merges [][2]string
}

// mergesHeader starts the merges.txt text made from a tokenizer.json, as in
// the files Hugging Face writes.
const mergesHeader = "#version: 0.2\n"

// ParseVocabMerges parses vocab.json (token → id) and merges.txt ("a b" per
// line; a first line starting with "#version" and empty lines are skipped).
func ParseVocabMerges(vocabJSON, mergesTxt []byte) (*HFTokenizer, error) {
	tok := &HFTokenizer{}
	if err := json.Unmarshal(vocabJSON, &tok.Vocab); err != nil {
		return nil, fmt.Errorf("vocab.json: %w", err)
	}
	lines := strings.Split(string(mergesTxt), "\n")
	for i, line := range lines {
		line = strings.TrimSuffix(line, "\r")
		if line == "" || (i == 0 && strings.HasPrefix(line, "#version")) {
			continue
		}
		a, b, ok := strings.Cut(line, " ")
		if !ok || a == "" || b == "" || strings.Contains(b, " ") {
			return nil, fmt.Errorf("merges.txt line %d: %q is not two symbols separated by a space", i+1, line)
		}
		tok.Merges = append(tok.Merges, [2]string{a, b})
	}
	return tok, nil
}

// ParseTokenizerJSON extracts the BPE model of a tokenizer.json: its vocab
// (returned also as vocab.json-style JSON) and merges (returned also as
// merges.txt-style text). Merges may be "a b" strings or ["a", "b"] pairs.
func ParseTokenizerJSON(data []byte) (tok *HFTokenizer, vocabJSON, mergesTxt []byte, err error) {
	var doc struct {
		Model struct {
			Type   string            `json:"type"`
			Vocab  json.RawMessage   `json:"vocab"`
			Merges []json.RawMessage `json:"merges"`
		} `json:"model"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, nil, nil, fmt.Errorf("tokenizer.json: %w", err)
	}
	if doc.Model.Type != "" && doc.Model.Type != "BPE" {
		return nil, nil, nil, fmt.Errorf("tokenizer.json: model type %q, want BPE", doc.Model.Type)
	}
	if len(doc.Model.Vocab) == 0 {
		return nil, nil, nil, errors.New("tokenizer.json: no model.vocab")
	}
	tok = &HFTokenizer{}
	if err := json.Unmarshal(doc.Model.Vocab, &tok.Vocab); err != nil {
		return nil, nil, nil, fmt.Errorf("tokenizer.json model.vocab: %w", err)
	}
	var txt bytes.Buffer
	txt.WriteString(mergesHeader)
	for i, raw := range doc.Model.Merges {
		var pair [2]string
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			a, b, ok := strings.Cut(s, " ")
			if !ok || a == "" || b == "" || strings.Contains(b, " ") || strings.ContainsAny(s, "\n\r") {
				return nil, nil, nil, fmt.Errorf("tokenizer.json merge %d: %q is not two symbols separated by a space", i, s)
			}
			pair = [2]string{a, b}
		} else {
			var p []string
			if err := json.Unmarshal(raw, &p); err != nil || len(p) != 2 {
				return nil, nil, nil, fmt.Errorf("tokenizer.json merge %d: want \"a b\" or [\"a\", \"b\"], got %s", i, raw)
			}
			if p[0] == "" || p[1] == "" || strings.ContainsAny(p[0]+p[1], " \n\r") {
				return nil, nil, nil, fmt.Errorf("tokenizer.json merge %d: %q cannot be written as a merges.txt line", i, p)
			}
			pair = [2]string{p[0], p[1]}
		}
		tok.Merges = append(tok.Merges, pair)
		txt.WriteString(pair[0])
		txt.WriteByte(' ')
		txt.WriteString(pair[1])
		txt.WriteByte('\n')
	}
	return tok, []byte(doc.Model.Vocab), txt.Bytes(), nil
}
