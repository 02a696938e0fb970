package main

import (
	"context"
	"fmt"
	"net/url"

	"github.com/clipinfer/clipinfer/index"
	"github.com/clipinfer/clipinfer/store"
	"github.com/clipinfer/clipinfer/store/pgstore"
)

// openStore opens the index at location: a postgres:// URL names a
// database (package store/pgstore), anything else an index file. With
// create, a missing file or model table is started for model (dtype applies
// to new files only). fingerprint, when not empty, must be the model of
// the vectors found; lazy lets a database store start unreachable.
func openStore(ctx context.Context, location string, model *index.ModelInfo, create bool, dtype index.DType, search index.SearchOptions, lazy bool) (store.Store, error) {
	if store.IsDatabaseURL(location) {
		opt := pgstore.Options{Lazy: lazy}
		if model != nil {
			if create {
				opt.Model = model
			} else {
				opt.Fingerprint = model.Fingerprint
			}
		}
		s, err := pgstore.Open(ctx, location, opt)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
	var m *index.ModelInfo
	if create {
		m = model
	}
	f, err := store.OpenFile(location, m, dtype, search)
	if err != nil {
		return nil, err
	}
	if model != nil {
		if err := f.Index().CheckModel(model.Fingerprint); err != nil {
			return nil, fmt.Errorf("%s: %w", location, err)
		}
	}
	return f, nil
}

// redact returns location with any password in a database URL replaced by
// "xxxxx", for messages and logs.
func redact(location string) string {
	if !store.IsDatabaseURL(location) {
		return location
	}
	u, err := url.Parse(location)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	return u.Redacted()
}
