// Package pgtest starts a throw-away PostgreSQL cluster with the pgvector
// extension on a free loopback port, for tests and measurements that need a
// real database: initdb into a temporary folder, pg_ctl start, and a Stop
// that shuts the server down and removes the folder.
//
// PostgreSQL refuses to run as root, so when the current user is root the
// cluster runs as the "postgres" system user (via runuser). When the
// binaries or the extension are missing, Start returns an error wrapping
// ErrUnavailable so that a test can skip with the reason.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ErrUnavailable is wrapped by Start's error when PostgreSQL or pgvector
// is not installed on this machine.
var ErrUnavailable = errors.New("PostgreSQL with pgvector is not installed")

// Cluster is a running throw-away PostgreSQL server.
type Cluster struct {
	// URL connects to the "postgres" database as the superuser "postgres"
	// over TCP on 127.0.0.1 (trust authentication, no TLS).
	URL string
	// Port is the TCP port on 127.0.0.1.
	Port int
	// Dir holds the data folder, the socket and the log.
	Dir string

	bin    string
	asUser string // "" to run as the current user
}

// Options tune Start. The zero value is for tests.
type Options struct {
	// Settings are extra "-c name=value" server settings.
	Settings []string
	// Dir, if set, is the folder for the cluster (created, and removed by
	// Stop); otherwise a new temporary folder.
	Dir string
}

// BinDir finds the PostgreSQL server binaries (the newest version under
// /usr/lib/postgresql, or pg_config --bindir).
func BinDir() (string, error) {
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		d := strings.TrimSpace(string(out))
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("%w: no initdb (install postgresql-15)", ErrUnavailable)
}

func version(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// hasVector reports whether the pgvector extension is installed for the
// server in binDir.
func hasVector(binDir string) bool {
	out, err := exec.Command(filepath.Join(binDir, "pg_config"), "--sharedir").Output()
	share := ""
	if err == nil {
		share = strings.TrimSpace(string(out))
	} else {
		share = filepath.Join("/usr/share/postgresql", strconv.Itoa(version(binDir)))
	}
	_, err = os.Stat(filepath.Join(share, "extension", "vector.control"))
	return err == nil
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Start creates and starts a cluster.
func Start(opt Options) (*Cluster, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	if !hasVector(bin) {
		return nil, fmt.Errorf("%w: the vector extension is missing (build pgvector, see .ci/run)", ErrUnavailable)
	}
	c := &Cluster{bin: bin, Dir: opt.Dir}
	if c.Dir == "" {
		if c.Dir, err = os.MkdirTemp("", "pgtest-"); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(c.Dir)
			return nil, fmt.Errorf("%w: running as root and there is no postgres user", ErrUnavailable)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(c.Dir, uid, gid); err != nil {
			os.RemoveAll(c.Dir)
			return nil, err
		}
		// The folder's parents must let the postgres user in.
		os.Chmod(c.Dir, 0o700)
		c.asUser = "postgres"
	}
	data := filepath.Join(c.Dir, "data")
	if out, err := c.cmd("initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync").CombinedOutput(); err != nil {
		os.RemoveAll(c.Dir)
		return nil, fmt.Errorf("pgtest: initdb: %v: %s", err, lastLines(out))
	}
	var lastErr error
	for range 5 { // the free port may be taken between probe and start
		if c.Port, err = FreePort(); err != nil {
			return nil, err
		}
		o := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off", c.Port, c.Dir)
		for _, s := range opt.Settings {
			o += " -c " + s
		}
		out, err := c.cmd("pg_ctl", "-D", data, "-l", filepath.Join(c.Dir, "log"), "-o", o, "-w", "-t", "60", "start").CombinedOutput()
		if err == nil {
			c.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.Port)
			return c, nil
		}
		log, _ := os.ReadFile(filepath.Join(c.Dir, "log"))
		lastErr = fmt.Errorf("pgtest: pg_ctl start: %v: %s %s", err, lastLines(out), lastLines(log))
	}
	os.RemoveAll(c.Dir)
	return nil, lastErr
}

// cmd runs a PostgreSQL program as the cluster's user.
func (c *Cluster) cmd(name string, args ...string) *exec.Cmd {
	prog := filepath.Join(c.bin, name)
	if c.asUser == "" {
		return exec.Command(prog, args...)
	}
	cmd := exec.Command("runuser", append([]string{"-u", c.asUser, "--", prog}, args...)...)
	cmd.Dir = "/" // the postgres user may not enter the caller's folder
	return cmd
}

// Stop shuts the server down (fast mode: open connections are ended) and
// removes its folder.
func (c *Cluster) Stop() error {
	out, err := c.cmd("pg_ctl", "-D", filepath.Join(c.Dir, "data"), "-m", "fast", "-w", "-t", "60", "stop").CombinedOutput()
	if err != nil {
		err = fmt.Errorf("pgtest: pg_ctl stop: %v: %s", err, lastLines(out))
	}
	return errors.Join(err, os.RemoveAll(c.Dir))
}

// Kill stops the server at once, as a crash would (immediate mode).
func (c *Cluster) Kill() error {
	out, err := c.cmd("pg_ctl", "-D", filepath.Join(c.Dir, "data"), "-m", "immediate", "-w", "stop").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgtest: pg_ctl stop: %v: %s", err, lastLines(out))
	}
	return nil
}

// Restart starts a stopped server again on the same port.
func (c *Cluster) Restart() error {
	o := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", c.Port, c.Dir)
	out, err := c.cmd("pg_ctl", "-D", filepath.Join(c.Dir, "data"), "-l", filepath.Join(c.Dir, "log"), "-o", o, "-w", "-t", "60", "start").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgtest: pg_ctl start: %v: %s", err, lastLines(out))
	}
	return nil
}

// CreateDB creates a database and returns its URL.
func (c *Cluster) CreateDB(ctx context.Context, name string) (string, error) {
	cmd := c.cmd("createdb", "-h", "127.0.0.1", "-p", strconv.Itoa(c.Port), "-U", "postgres", name)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("pgtest: createdb %s: %v: %s", name, err, lastLines(out))
	}
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.Port, name), nil
}

// Wait polls until the server accepts connections or the timeout passes.
func (c *Cluster) Wait(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", c.Port), time.Second)
		if err == nil {
			conn.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func lastLines(b []byte) string {
	s := strings.TrimSpace(string(b))
	lines := strings.Split(s, "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, " | ")
}
