package main

import (
	"encoding/json"
	"fmt"

	"github.com/clipinfer/clipinfer/tokenizer"
)

func init() {
	register("tokenize", command{
		summary: "Print the token ids of each text as one JSON array (77 ids for CLIP: SOT, BPE ids, EOT, zero padding).",
		usage:   "[-m MODEL] TEXT...",
		run:     runTokenize,
	})
}

func runTokenize(e *env, args []string) error {
	fs := flags(e, "tokenize")
	var mf modelFlags
	mf.add(fs, false, 0)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := nargs(fs, 1, -1, "TEXT"); err != nil {
		return err
	}
	enc := json.NewEncoder(e.stdout)
	if mf.path == "" {
		// The default CLIP BPE and context.
		tok := tokenizer.Default()
		for _, t := range fs.Args() {
			if err := enc.Encode(tok.Tokenize(t, 77)); err != nil {
				return err
			}
		}
		return nil
	}
	m, err := mf.open()
	if err != nil {
		return err
	}
	defer m.Close()
	for i, t := range fs.Args() {
		ids, err := m.Tokenize(t)
		if err != nil {
			return fmt.Errorf("text %d: %w", i+1, err)
		}
		if err := enc.Encode(ids); err != nil {
			return err
		}
	}
	return nil
}
