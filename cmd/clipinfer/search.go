package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/clipinfer/clipinfer/index"
	"github.com/clipinfer/clipinfer/internal/termtext"
	"github.com/clipinfer/clipinfer/kernels"
	"github.com/clipinfer/clipinfer/store"
)

func init() {
	register("search", command{
		summary: "Find the images of an index closest to text queries or to example images: one JSON line per hit ({\"query\",\"type\",\"rank\",\"score\",\"path\"}), or a table with -table.",
		usage:   "-m MODEL -index INDEX [-k 10] [-image PATH]... [-table] [-sheet OUT.png] [QUERY...]",
		run:     runSearch,
	})
}

// searchHit is one JSON line of clipinfer search.
type searchHit struct {
	Query string  `json:"query"`
	Type  string  `json:"type"` // "text" or "image"
	Rank  int     `json:"rank"`
	Score float32 `json:"score"`
	Path  string  `json:"path"`
}

func runSearch(e *env, args []string) error {
	fs := flags(e, "search")
	var mf modelFlags
	mf.add(fs, true, runsTowers, readsImages)
	idxPath := fs.String("index", "", "index file made by clipinfer index, or a postgres:// database URL")
	k := fs.Int("k", 10, "hits per query")
	var images listFlag
	fs.Var(&images, "image", "find images like this one (repeatable)")
	table := fs.Bool("table", false, "print a readable table instead of JSON lines")
	timing := fs.Bool("time", false, "report embedding and scan times on stderr")
	sheet := fs.String("sheet", "", "also draw the hits as a contact-sheet PNG to this file")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := checkFlagOrder(fs); err != nil {
		return err
	}
	if err := required(fs, "m", "index"); err != nil {
		return err
	}
	if fs.NArg() == 0 && len(images) == 0 {
		return usagef("nothing to search for: give QUERY text arguments or -image PATH")
	}
	if *k < 1 {
		return usagef("-k must be at least 1")
	}
	m, err := mf.open()
	if err != nil {
		return err
	}
	defer m.Close()
	fp, err := m.Fingerprint()
	if err != nil {
		return err
	}
	ks, err := kernels.Default()
	if mf.kernel != "" {
		ks, err = kernels.Get(mf.kernel)
	}
	if err != nil {
		return err
	}
	ctx := context.Background()
	x, err := openStore(ctx, *idxPath, &index.ModelInfo{Fingerprint: fp}, false, 0, index.SearchOptions{Kernels: ks, Threads: mf.threads}, false)
	if err != nil {
		return err
	}
	defer x.Close()

	t0 := time.Now()
	var queries [][]float32
	var labels, types []string
	if texts := fs.Args(); len(texts) > 0 {
		embs, err := m.EmbedTexts(texts)
		if err != nil {
			return err
		}
		queries = append(queries, embs...)
		for _, t := range texts {
			labels, types = append(labels, t), append(types, "text")
		}
	}
	if len(images) > 0 {
		embs, err := m.EmbedImageFiles(images)
		if err != nil {
			return err
		}
		queries = append(queries, embs...)
		for _, p := range images {
			labels, types = append(labels, p), append(types, "image")
		}
	}
	t1 := time.Now()
	hits, err := x.SearchBatch(ctx, queries, *k)
	if err != nil {
		return err
	}
	if *timing {
		how := ks.Name() + " kernel"
		if _, ok := x.(*store.File); !ok {
			how = "HNSW in the database"
		}
		fmt.Fprintf(e.stderr, "embedded %d queries in %s; searched %d vectors in %s (%s)\n",
			len(queries), t1.Sub(t0).Round(time.Microsecond), x.Status(ctx).Entries, time.Since(t1).Round(time.Microsecond), how)
	}
	if *sheet != "" {
		if err := writeContactSheet(*sheet, labels, hits, mf.maxPixels); err != nil {
			return err
		}
	}
	if *table {
		return searchTable(e.stdout, labels, types, hits)
	}
	for q, hs := range hits {
		for i, h := range hs {
			if err := printJSON(e.stdout, searchHit{Query: labels[q], Type: types[q], Rank: i + 1, Score: h.Score, Path: h.Path}); err != nil {
				return err
			}
		}
	}
	return nil
}

func searchTable(w io.Writer, labels, types []string, hits [][]index.Hit) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for q, hs := range hits {
		if q > 0 {
			fmt.Fprintln(tw)
		}
		fmt.Fprintf(tw, "%s query: %q\n", types[q], labels[q])
		fmt.Fprintln(tw, "rank\tscore\tpath")
		for i, h := range hs {
			fmt.Fprintf(tw, "%d\t%.4f\t%s\n", i+1, h.Score, termtext.Safe(h.Path))
		}
		if len(hs) == 0 {
			fmt.Fprintln(tw, "(index is empty)")
		}
	}
	return tw.Flush()
}
