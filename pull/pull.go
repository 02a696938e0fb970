// Package pull downloads well-known CLIP checkpoints and converts them into
// clipinfer weight files.
//
// A download goes to NAME.part next to its destination and resumes from
// there with an HTTP Range request when it was interrupted; the finished
// file is checked against its SHA-256 before it is renamed into place, so
// a file under its final name is always complete and verified. Every
// transfer has a budget: the expected size (or MaxBytes when the size is
// unknown) and a stall timeout that ends a connection which stops sending.
package pull

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/clipinfer/clipinfer/convert"
)

// MirrorEnv names the environment variable that replaces every
// checkpoint's base URL, for a mirror that serves the same paths.
const MirrorEnv = "CLIPINFER_MIRROR"

// Checkpoint is a trained model as published: one file (a PyTorch or
// safetensors checkpoint) or a folder of files (a Hugging Face model).
type Checkpoint struct {
	Name    string   // what "clipinfer pull NAME" accepts; also names the output
	Aliases []string // other accepted names (case does not matter)
	Summary string   // one line for -list
	Base    string   // URL every File.Path is relative to
	Approx  string   // download size for people, e.g. "about 340 MiB"
	Folder  bool     // convert the download folder rather than its one file
	Files   []File
}

// File is one file of a checkpoint.
type File struct {
	Name string // file name in the download folder
	Path string // path under the base URL
	// SHA256 is the file's hash in hex. Empty: taken from the Git LFS
	// pointer at Pointer; with neither, the file is not verified (only
	// small configuration files, bounded by MaxSize).
	SHA256 string
	Size   int64 // bytes, 0 when only the server knows
	// Pointer is the path of the file's Git LFS pointer under the base URL
	// ("version …\noid sha256:HEX\nsize N\n").
	Pointer string
	// MaxSize bounds a file of unknown size; 0 means Options.MaxBytes.
	MaxSize int64
}

// Options controls downloads.
type Options struct {
	// Client makes the requests; nil means a client whose only timeouts
	// are the connection's (the body may take as long as it keeps coming).
	Client *http.Client
	// StallTimeout ends a transfer when no byte arrives for this long
	// (default one minute).
	StallTimeout time.Duration
	// MaxBytes bounds a file whose size is not known in advance (default
	// 8 GiB).
	MaxBytes int64
	// Retries is how many times a broken transfer is resumed within one
	// call before giving up (the .part file stays for the next call).
	Retries int
	// Progress, if set, is called as bytes arrive: done of total (total 0
	// when unknown), for the file named.
	Progress func(name string, done, total int64)
}

func (o *Options) defaults() {
	if o.Client == nil {
		o.Client = &http.Client{Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			ResponseHeaderTimeout: time.Minute,
			TLSHandshakeTimeout:   30 * time.Second,
		}}
	}
	if o.StallTimeout <= 0 {
		o.StallTimeout = time.Minute
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 8 << 30
	}
}

// Lookup returns the known checkpoint with that name or alias.
func Lookup(name string) (Checkpoint, bool) {
	for _, c := range Known {
		if strings.EqualFold(c.Name, name) {
			return c, true
		}
		for _, a := range c.Aliases {
			if strings.EqualFold(a, name) {
				return c, true
			}
		}
	}
	return Checkpoint{}, false
}

// sha256InPath finds a 64-hex-digit folder in a URL path, the way OpenAI
// publishes its checkpoints.
var sha256InPath = regexp.MustCompile(`(?i)/([0-9a-f]{64})/[^/]+$`)

// FromURL describes the checkpoint at a URL: one file, verified by the
// SHA-256 its path carries if it has one (and otherwise not at all).
func FromURL(raw string) (Checkpoint, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Checkpoint{}, fmt.Errorf("%q is neither a known checkpoint name nor an http(s) URL", raw)
	}
	name := path.Base(u.Path)
	if name == "/" || name == "." || strings.HasPrefix(name, ".") {
		return Checkpoint{}, fmt.Errorf("%s: the URL names no file", raw)
	}
	f := File{Name: name, Path: strings.TrimPrefix(u.RequestURI(), "/")}
	if m := sha256InPath.FindStringSubmatch(u.Path); m != nil {
		f.SHA256 = strings.ToLower(m[1])
	}
	base := u.Scheme + "://" + u.Host
	return Checkpoint{Name: strings.TrimSuffix(name, path.Ext(name)), Summary: raw, Base: base, Files: []File{f}}, nil
}

// fileURL joins a base URL and a path.
func fileURL(base, p string) string { return strings.TrimSuffix(base, "/") + "/" + p }

// Fetch downloads base/f.Path to dest, resuming dest.part, and verifies
// it. A dest that already exists is trusted if its hash (when known)
// matches; otherwise it is downloaded again.
func Fetch(ctx context.Context, base string, f File, dest string, opt Options) error {
	opt.defaults()
	if f.SHA256 == "" && f.Pointer != "" {
		oid, size, err := readPointer(ctx, fileURL(base, f.Pointer), opt)
		if err != nil {
			return err
		}
		f.SHA256, f.Size = oid, size
	}
	if _, err := os.Stat(dest); err == nil {
		if f.SHA256 == "" {
			return nil
		}
		if got, err := hashFile(dest); err == nil && got == f.SHA256 {
			return nil
		}
		if err := os.Remove(dest); err != nil {
			return err
		}
	}
	src := fileURL(base, f.Path)
	part := dest + ".part"
	limit := f.Size
	if limit <= 0 {
		limit = f.MaxSize
		if limit <= 0 {
			limit = opt.MaxBytes
		}
	}
	var err error
	for attempt := 0; ; attempt++ {
		err = fetchOnce(ctx, src, f, part, limit, opt)
		if err == nil || !errors.Is(err, errBroken) || attempt >= opt.Retries || ctx.Err() != nil {
			break
		}
		time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
	}
	if errors.Is(err, errBroken) {
		return fmt.Errorf("%w; run the same command again to resume", err)
	}
	if err != nil {
		return err
	}
	if f.SHA256 != "" {
		got, err := hashFile(part)
		if err != nil {
			return err
		}
		if got != f.SHA256 {
			os.Remove(part)
			return fmt.Errorf("%s: SHA-256 mismatch: got %s, want %s (the download was removed)", src, got, f.SHA256)
		}
	}
	return os.Rename(part, dest)
}

// errBroken marks a transfer that ended early and can be resumed.
var errBroken = errors.New("transfer interrupted")

// fetchOnce makes one request, appending to part from its current size.
func fetchOnce(ctx context.Context, src string, f File, part string, limit int64, opt Options) error {
	out, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer out.Close()
	have, err := out.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	if f.Size > 0 && have > f.Size {
		if err := out.Truncate(0); err != nil {
			return err
		}
		have, _ = out.Seek(0, io.SeekStart)
	}
	if f.Size > 0 && have == f.Size {
		return nil // complete; the hash decides
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return err
	}
	if have > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", have))
	}
	resp, err := opt.Client.Do(req)
	if err != nil {
		if ctx.Err() != nil && context.Cause(ctx) == context.Canceled {
			return err
		}
		return fmt.Errorf("%w: GET %s: %v", errBroken, src, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusPartialContent && have > 0:
		start, ok := rangeStart(resp.Header.Get("Content-Range"))
		if !ok || start != have {
			return fmt.Errorf("GET %s: the server resumed at %q, not at byte %d", src, resp.Header.Get("Content-Range"), have)
		}
	case resp.StatusCode == http.StatusOK:
		if err := out.Truncate(0); err != nil { // the server ignored Range
			return err
		}
		if have, err = out.Seek(0, io.SeekStart); err != nil {
			return err
		}
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && have > 0:
		return out.Truncate(0) // the .part is longer than the file: start again next time
	default:
		return fmt.Errorf("GET %s: %s", src, resp.Status)
	}
	if resp.ContentLength >= 0 && have+resp.ContentLength > limit {
		return fmt.Errorf("GET %s: %d bytes is more than the %d expected", src, have+resp.ContentLength, limit)
	}
	total := f.Size
	if total <= 0 && resp.ContentLength >= 0 {
		total = have + resp.ContentLength
	}
	// The stall timer ends the request when the body stops coming.
	stall := time.AfterFunc(opt.StallTimeout, func() { cancel(errStalled) })
	defer stall.Stop()
	buf := make([]byte, 256<<10)
	done := have
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			stall.Reset(opt.StallTimeout)
			if done+int64(n) > limit {
				return fmt.Errorf("GET %s: the server sent more than the %d bytes expected", src, limit)
			}
			if _, err := out.Write(buf[:n]); err != nil {
				return err
			}
			done += int64(n)
			if opt.Progress != nil {
				opt.Progress(f.Name, done, total)
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			if errors.Is(context.Cause(ctx), errStalled) {
				return fmt.Errorf("%w: GET %s: no data for %s after %d bytes", errBroken, src, opt.StallTimeout, done)
			}
			if ctx.Err() != nil && context.Cause(ctx) == context.Canceled {
				return ctx.Err()
			}
			return fmt.Errorf("%w: GET %s after %d bytes: %v", errBroken, src, done, rerr)
		}
	}
	if total > 0 && done != total {
		return fmt.Errorf("%w: GET %s: got %d of %d bytes", errBroken, src, done, total)
	}
	return out.Sync()
}

var errStalled = errors.New("stalled")

// rangeStart parses the first byte of "bytes START-END/TOTAL".
func rangeStart(s string) (int64, bool) {
	s, ok := strings.CutPrefix(s, "bytes ")
	if !ok {
		return 0, false
	}
	a, _, ok := strings.Cut(s, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(a, 10, 64)
	return n, err == nil
}

// readPointer fetches a Git LFS pointer and returns its SHA-256 and size.
func readPointer(ctx context.Context, src string, opt Options) (string, int64, error) {
	ctx, cancel := context.WithTimeout(ctx, opt.StallTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return "", 0, err
	}
	resp, err := opt.Client.Do(req)
	if err != nil {
		return "", 0, fmt.Errorf("GET %s: %w", src, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", 0, fmt.Errorf("GET %s: %s", src, resp.Status)
	}
	oid, size, err := parsePointer(resp.Body)
	if err != nil {
		return "", 0, fmt.Errorf("GET %s: %w", src, err)
	}
	return oid, size, nil
}

// parsePointer reads a Git LFS pointer ("version …", "oid sha256:HEX",
// "size N" lines; at most 4 KiB) and returns its SHA-256 and size.
func parsePointer(r io.Reader) (string, int64, error) {
	var oid string
	var size int64 = -1
	sc := bufio.NewScanner(io.LimitReader(r, 4<<10))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), " ")
		switch k {
		case "oid":
			if h, ok := strings.CutPrefix(v, "sha256:"); ok && len(h) == 64 {
				if _, err := hex.DecodeString(h); err == nil {
					oid = strings.ToLower(h)
				}
			}
		case "size":
			size, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	if oid == "" || size <= 0 {
		return "", 0, errors.New("not a Git LFS pointer with a sha256 oid and a size")
	}
	return oid, size, nil
}

func hashFile(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// PullOptions controls Pull.
type PullOptions struct {
	Options
	// Base replaces the checkpoint's base URL (a mirror); "" uses
	// $CLIPINFER_MIRROR, then the checkpoint's own.
	Base string
	// Quant is the weight type of the output: q8 (default), f16 or f32.
	Quant string
	// Output is the .clip file to write; "" means Dir/NAME-QUANT.clip.
	Output string
	// Dir is the cache folder for downloads and outputs (default: the
	// user cache folder's clipinfer/models).
	Dir string
	// Keep keeps the downloaded checkpoint after conversion.
	Keep bool
	// Converting, if set, is called once the download is verified.
	Converting func()
}

// DefaultDir returns the folder pulled models go to: clipinfer/models in
// the user cache folder ($XDG_CACHE_HOME, or ~/.cache, on Linux).
func DefaultDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache folder (%v): give -o FILE", err)
	}
	return filepath.Join(base, "clipinfer", "models"), nil
}

// Result says what Pull made.
type Result struct {
	Path   string          // the .clip file
	Cached bool            // it existed already: nothing was downloaded
	Report *convert.Report // nil when Cached
}

// Pull downloads a checkpoint (a known name or a URL), verifies it,
// converts it, and returns the .clip file's path.
func Pull(ctx context.Context, ref string, opt PullOptions) (*Result, error) {
	cp, ok := Lookup(ref)
	if !ok {
		var err error
		if cp, err = FromURL(ref); err != nil {
			return nil, err
		}
	}
	return PullCheckpoint(ctx, cp, opt)
}

// PullCheckpoint is Pull for a checkpoint described by the caller.
func PullCheckpoint(ctx context.Context, cp Checkpoint, opt PullOptions) (*Result, error) {
	if opt.Quant == "" {
		opt.Quant = "q8"
	}
	if err := (convert.Options{Quant: opt.Quant}).Validate(); err != nil {
		return nil, err
	}
	dir := opt.Dir
	if dir == "" {
		var err error
		if dir, err = DefaultDir(); err != nil {
			return nil, err
		}
	}
	slug := strings.NewReplacer("/", "--", "\\", "--", ":", "-").Replace(cp.Name)
	out := opt.Output
	if out == "" {
		out = filepath.Join(dir, slug+"-"+opt.Quant+".clip")
		if _, err := os.Stat(out); err == nil {
			return &Result{Path: out, Cached: true}, nil
		}
	}
	base := opt.Base
	if base == "" {
		base = os.Getenv(MirrorEnv)
	}
	if base == "" {
		base = cp.Base
	}
	dl := filepath.Join(dir, "downloads", slug)
	if err := os.MkdirAll(dl, 0o755); err != nil {
		return nil, err
	}
	for _, f := range cp.Files {
		if err := Fetch(ctx, base, f, filepath.Join(dl, f.Name), opt.Options); err != nil {
			return nil, err
		}
	}
	in := dl
	if !cp.Folder {
		in = filepath.Join(dl, cp.Files[0].Name)
	}
	if opt.Converting != nil {
		opt.Converting()
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return nil, err
	}
	rep, err := convert.Convert(in, out, convert.Options{Quant: opt.Quant, Args: []string{"clipinfer", "pull", cp.Name}})
	if err != nil {
		return nil, fmt.Errorf("convert %s: %w", in, err)
	}
	if !opt.Keep {
		os.RemoveAll(dl)
	}
	return &Result{Path: out, Report: rep}, nil
}
