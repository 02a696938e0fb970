package siglip

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/clipinfer/clipinfer/tokenizer/sentencepiece"
)

// maxJSONBytes bounds tokenizer_config.json and special_tokens_map.json
// (Gemma's lists a few thousand added tokens in well under a megabyte).
const maxJSONBytes = 8 << 20

// ConfigFromHF reads the tokenizer of a Hugging Face SigLIP or SigLIP 2
// folder: tokenizer_config.json and special_tokens_map.json when present,
// and the SentencePiece model (spiece.model for SiglipTokenizer,
// tokenizer.model for the Gemma tokenizer), whose bytes it returns for the
// caller to parse or store. Files must be regular files (symbolic links to
// them, as the Hugging Face cache makes, are followed) within their size
// budgets.
//
// The kind comes from tokenizer_class, else from which model file exists.
// MaxLength is model_max_length when it is a sensible length, else 64.
// SigLIP takes do_lower_case (default true), its eos, unk and pad tokens
// and the added tokens' strip flags from the files; Gemma
// (GemmaTokenizer, GemmaTokenizerFast, Siglip2Tokenizer) takes
// add_bos_token and add_eos_token (transformers' defaults, true and false,
// when absent) and is lower-cased (see the package comment). Left padding
// is refused: the text towers read the last position.
func ConfigFromHF(dir string) (Config, []byte, error) {
	var tc hfTokenizerConfig
	_, err := readJSON(filepath.Join(dir, "tokenizer_config.json"), &tc)
	if err != nil {
		return Config{}, nil, err
	}
	var stm hfTokenizerConfig
	if _, err := readJSON(filepath.Join(dir, "special_tokens_map.json"), &stm); err != nil {
		return Config{}, nil, err
	}
	cfg := Config{MaxLength: 64}
	switch tc.TokenizerClass {
	case "SiglipTokenizer":
		cfg.Kind = KindSiglip
	case "GemmaTokenizer", "GemmaTokenizerFast", "Siglip2Tokenizer":
		cfg.Kind = KindGemma
	case "":
		switch {
		case isRegular(filepath.Join(dir, "spiece.model")):
			cfg.Kind = KindSiglip
		case isRegular(filepath.Join(dir, "tokenizer.model")):
			cfg.Kind = KindGemma
		default:
			return Config{}, nil, fmt.Errorf("siglip: %s has neither spiece.model nor tokenizer.model", dir)
		}
	default:
		return Config{}, nil, fmt.Errorf("siglip: tokenizer_class %q is not a SigLIP or Gemma tokenizer", tc.TokenizerClass)
	}
	if tc.PaddingSide == "left" {
		// The text towers pool the last position, which left padding
		// would fill with padding.
		return Config{}, nil, fmt.Errorf("siglip: padding_side \"left\" is not supported (SigLIP pools the last position)")
	}
	if l := tc.ModelMaxLength; l >= 1 && l <= maxLengthLimit {
		cfg.MaxLength = int(l)
	}
	tok := func(a, b hfToken) string {
		if a.Content != "" {
			return a.Content
		}
		return b.Content
	}
	modelFile := "spiece.model"
	if cfg.Kind == KindSiglip {
		cfg.Lowercase = tc.DoLowerCase == nil || *tc.DoLowerCase
		cfg.EOSToken = tok(tc.EOSToken, stm.EOSToken)
		cfg.UNKToken = tok(tc.UNKToken, stm.UNKToken)
		cfg.PadToken = tok(tc.PadToken, stm.PadToken)
		cfg.Added, err = siglipAdded(tc, stm, cfg)
		if err != nil {
			return Config{}, nil, err
		}
	} else {
		modelFile = "tokenizer.model"
		cfg.Lowercase = true
		cfg.AddBOS = tc.AddBOSToken == nil || *tc.AddBOSToken
		cfg.AddEOS = tc.AddEOSToken != nil && *tc.AddEOSToken
		cfg.BOSToken = tok(tc.BOSToken, stm.BOSToken)
		cfg.EOSToken = tok(tc.EOSToken, stm.EOSToken)
		cfg.PadToken = tok(tc.PadToken, stm.PadToken)
	}
	data, err := readRegular(filepath.Join(dir, modelFile), sentencepiece.MaxModelBytes)
	if err != nil {
		return Config{}, nil, err
	}
	return cfg, data, nil
}

// siglipAdded lists SiglipTokenizer's added tokens in the order of
// all_special_tokens (eos, unk, pad, then additional_special_tokens),
// followed by the other entries of added_tokens_decoder, with the strip
// flags the files give (the class default strips both sides).
func siglipAdded(tc, stm hfTokenizerConfig, cfg Config) ([]AddedToken, error) {
	flags := map[string]AddedToken{}
	ids := make([]int, 0, len(tc.AddedTokensDecoder))
	byID := map[int]hfToken{}
	for k, v := range tc.AddedTokensDecoder {
		id, err := strconv.Atoi(k)
		if err != nil || id < 0 {
			return nil, fmt.Errorf("siglip: added_tokens_decoder key %q is not an id", k)
		}
		if v.Content == "" {
			return nil, fmt.Errorf("siglip: added token %d has no content", id)
		}
		ids = append(ids, id)
		byID[id] = v
	}
	sort.Ints(ids)
	for _, id := range ids {
		v := byID[id]
		flags[v.Content] = AddedToken{Content: v.Content, ID: id, LStrip: v.LStrip, RStrip: v.RStrip}
	}
	if len(flags) == 0 {
		return nil, nil // New's default: eos, unk and pad stripping both sides
	}
	var out []AddedToken
	seen := map[string]bool{}
	add := func(content string) {
		if content == "" || seen[content] {
			return
		}
		if a, ok := flags[content]; ok {
			out = append(out, a)
			seen[content] = true
		}
	}
	add(or(cfg.EOSToken, "</s>"))
	add(or(cfg.UNKToken, "<unk>"))
	add(or(cfg.PadToken, "</s>"))
	extra := tc.AdditionalSpecialTokens
	if len(extra) == 0 {
		extra = stm.AdditionalSpecialTokens
	}
	for _, e := range extra {
		add(e.Content)
	}
	for _, id := range ids {
		add(byID[id].Content)
	}
	return out, nil
}

// hfToken is a token as the files write it: a string or an object with
// content and flags.
type hfToken struct {
	Content string `json:"content"`
	LStrip  bool   `json:"lstrip"`
	RStrip  bool   `json:"rstrip"`
}

// UnmarshalJSON accepts both forms.
func (t *hfToken) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*t = hfToken{Content: s}
		return nil
	}
	type plain hfToken
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*t = hfToken(p)
	return nil
}

type hfTokenizerConfig struct {
	TokenizerClass          string             `json:"tokenizer_class"`
	PaddingSide             string             `json:"padding_side"`
	ModelMaxLength          float64            `json:"model_max_length"`
	DoLowerCase             *bool              `json:"do_lower_case"`
	AddBOSToken             *bool              `json:"add_bos_token"`
	AddEOSToken             *bool              `json:"add_eos_token"`
	BOSToken                hfToken            `json:"bos_token"`
	EOSToken                hfToken            `json:"eos_token"`
	UNKToken                hfToken            `json:"unk_token"`
	PadToken                hfToken            `json:"pad_token"`
	AdditionalSpecialTokens []hfToken          `json:"additional_special_tokens"`
	AddedTokensDecoder      map[string]hfToken `json:"added_tokens_decoder"`
}

// readJSON decodes path into v; a missing file is not an error (found is
// false).
func readJSON(path string, v any) (found bool, err error) {
	data, err := readRegular(path, maxJSONBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return true, fmt.Errorf("siglip: %s: %w", path, err)
	}
	return true, nil
}

func isRegular(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// readRegular reads a regular file of at most limit bytes. It checks the
// type before opening, so that a FIFO or device cannot block or stream.
func readRegular(path string, limit int64) ([]byte, error) {
	if fi, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("siglip: %w", err)
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("siglip: %s is not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("siglip: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("siglip: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("siglip: %s is not a regular file", path)
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("siglip: %s has %d bytes, more than the %d-byte budget", path, fi.Size(), limit)
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("siglip: %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("siglip: %s grew beyond the %d-byte budget while read", path, limit)
	}
	return data, nil
}
