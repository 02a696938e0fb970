package index

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ErrLinkLoop is reported through UpdateOptions.Warn for a symbolic link
// that leads back to a folder it is inside of; the link is not followed.
var ErrLinkLoop = errors.New("symbolic link loop: leads back to an enclosing folder")

// maxDepth bounds how deep the walk goes, whatever the file system does
// (bind mounts can loop without symbolic links).
const maxDepth = 256

// walker lists image files under roots, following symbolic links to
// folders. Every folder is walked once, under the first path that reaches
// it; a link to one of its own enclosing folders is reported as a loop.
type walker struct {
	ctx    context.Context
	warn   func(string, error) // unreadable files and folders
	loop   func(string)        // link loops
	st     *Stats
	seen   map[string]bool // image file paths listed
	walked map[string]bool // real paths of folders walked
	out    []Entry
}

// walk lists the image files under roots, sorted by path, without
// duplicates.
func walk(ctx context.Context, roots []string, warn func(string, error), loop func(string), st *Stats) ([]Entry, error) {
	w := &walker{ctx: ctx, warn: warn, loop: loop, st: st, seen: map[string]bool{}, walked: map[string]bool{}}
	for _, root := range roots {
		info, err := os.Stat(root) // follows a link given as the root
		if err != nil {
			return nil, fmt.Errorf("index: %w", err)
		}
		if !info.IsDir() {
			w.file(root)
			continue
		}
		real, err := filepath.EvalSymlinks(root)
		if err != nil {
			w.warn(root, err)
			continue
		}
		if err := w.dir(root, real, 0); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(w.out, func(a, b Entry) int { return strings.Compare(a.Path, b.Path) })
	return w.out, nil
}

// dir walks the folder at path whose real (link-free) path is real.
func (w *walker) dir(path, real string, depth int) error {
	if w.walked[real] {
		return nil // reached before through another path
	}
	w.walked[real] = true
	if depth > maxDepth {
		w.warn(path, fmt.Errorf("more than %d folders deep", maxDepth))
		return nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		w.warn(path, err)
		if len(entries) == 0 {
			return nil
		}
	}
	for _, e := range entries {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		p := filepath.Join(path, e.Name())
		switch {
		case e.IsDir():
			if strings.HasPrefix(e.Name(), ".") {
				continue // hidden folders (.git, .cache, …)
			}
			if err := w.dir(p, filepath.Join(real, e.Name()), depth+1); err != nil {
				return err
			}
		case e.Type()&os.ModeSymlink != 0:
			info, err := os.Stat(p)
			if err != nil {
				w.warn(p, err)
				continue
			}
			if !info.IsDir() {
				w.file(p)
				continue
			}
			if strings.HasPrefix(e.Name(), ".") {
				continue
			}
			target, err := filepath.EvalSymlinks(p)
			if err != nil {
				w.warn(p, err)
				continue
			}
			here := filepath.Join(real, "")
			if target == here || strings.HasPrefix(here, strings.TrimSuffix(target, string(filepath.Separator))+string(filepath.Separator)) {
				w.loop(p)
				continue
			}
			if !w.walked[target] {
				w.st.Links++
			}
			if err := w.dir(p, target, depth+1); err != nil {
				return err
			}
		default:
			w.file(p)
		}
	}
	return nil
}

// file lists one file if it has an image extension and is a regular file
// (through links).
func (w *walker) file(path string) {
	if !slices.Contains(ImageExtensions, strings.ToLower(filepath.Ext(path))) {
		w.st.Ignored++
		return
	}
	if w.seen[path] {
		return
	}
	info, err := os.Stat(path) // follows symbolic links
	if err != nil {
		w.warn(path, err)
		return
	}
	if !info.Mode().IsRegular() {
		w.st.Ignored++
		return
	}
	w.seen[path] = true
	w.out = append(w.out, Entry{Path: path, Size: info.Size(), ModTime: info.ModTime().UnixNano()})
}
