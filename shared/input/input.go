package input

import (
	"bufio"
	"bytes"
	"container/heap"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/tidewatch/tidewatch/shared/cwlogs"
	"github.com/tidewatch/tidewatch/shared/flowlog"
	"github.com/tidewatch/tidewatch/shared/insights"
	"github.com/tidewatch/tidewatch/shared/k8saudit"
)

// Handler receives records in event-time order. Values passed to it are
// only valid during the call.
type Handler interface {
	// Batch receives one CloudWatch Logs delivery; where names the file
	// and the value in it.
	Batch(b *cwlogs.Batch, where string)
	// Flow receives one flow record of an S3-style file.
	Flow(r *flowlog.Record, where string)
	// Audit receives one Kubernetes audit event.
	Audit(ev *k8saudit.Event, where string)
	// Insights receives one Container Insights performance event.
	Insights(ev *insights.Event, where string)
	// Skip reports a record, value or file that could not be used.
	Skip(reason, where string, err error)
}

// Options tune Read.
type Options struct {
	// FlowFormat is the format of flow records that arrive without a
	// header line; nil means the default (version 2) format.
	FlowFormat *flowlog.Format
}

// Read reads every file named by paths (folders are walked; hidden files,
// and documentation and configuration files by their extension, are
// skipped) and feeds h in event-time order. It returns an error only when a
// path cannot be read at all.
func Read(paths []string, opts Options, h Handler) error {
	files, err := expand(paths)
	if err != nil {
		return err
	}
	var q streams
	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	for _, name := range files {
		s, c, err := open(name, opts, h)
		if err != nil {
			return err
		}
		if c != nil {
			closers = append(closers, c)
		}
		if s != nil && s.advance() {
			q = append(q, s)
		}
	}
	heap.Init(&q)
	for q.Len() > 0 {
		s := q[0]
		s.apply(h)
		if s.advance() {
			heap.Fix(&q, 0)
		} else {
			heap.Pop(&q)
		}
	}
	return nil
}

// skipExt lists file extensions that are never input.
var skipExt = map[string]bool{".md": true, ".txt": true, ".yaml": true, ".yml": true, ".toml": true, ".go": true, ".sh": true, ".html": true}

func expand(paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("input: %w", err)
		}
		if !info.IsDir() {
			files = append(files, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if path != p && strings.HasPrefix(name, ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() || !d.Type().IsRegular() {
				return nil
			}
			ext := strings.ToLower(filepath.Ext(strings.TrimSuffix(name, ".gz")))
			if skipExt[ext] || strings.HasPrefix(strings.ToUpper(name), "LICENSE") {
				return nil
			}
			files = append(files, path)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("input: walk %s: %w", p, err)
		}
	}
	sort.Strings(files)
	return files, nil
}

// open recognises a file's content and returns the stream that reads it.
func open(name string, opts Options, h Handler) (stream, io.Closer, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, fmt.Errorf("input: %w", err)
	}
	rd := bufio.NewReaderSize(f, 1<<16)
	if magic, _ := rd.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(rd)
		if err != nil {
			f.Close()
			h.Skip("unreadable gzip", name, err)
			return nil, nil, nil
		}
		rd = bufio.NewReaderSize(zr, 1<<16)
	}
	head, err := rd.Peek(512)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		f.Close()
		h.Skip("unreadable file", name, err)
		return nil, nil, nil
	}
	trimmed := bytes.TrimLeft(head, " \t\r\n\ufeff")
	switch {
	case len(trimmed) == 0:
		f.Close()
		return nil, nil, nil
	case trimmed[0] == '{' || trimmed[0] == '[':
		return newJSONStream(name, rd), f, nil
	case looksLikeFlow(trimmed):
		return newFlowStream(name, rd, opts.FlowFormat), f, nil
	default:
		f.Close()
		h.Skip("unrecognised content", name, errors.New("not JSON and not a VPC flow log"))
		return nil, nil, nil
	}
}

// looksLikeFlow reports whether the first line is a flow log header or a
// record: space-separated words, the first a field name or a version
// number.
func looksLikeFlow(head []byte) bool {
	line, _, _ := bytes.Cut(head, []byte("\n"))
	words := bytes.Fields(line)
	if len(words) < 3 {
		return false
	}
	if _, err := flowlog.ParseFormat(string(line)); err == nil {
		return true
	}
	w := words[0]
	return len(w) <= 2 && w[0] >= '0' && w[0] <= '9'
}

// stream is one open file: a head unit with its event time.
type stream interface {
	// advance reads the next unit; false at the end of the file.
	advance() bool
	// time is the event time of the head unit.
	time() time.Time
	// apply hands the head unit to h.
	apply(h Handler)
	// order breaks ties between streams deterministically.
	order() string
}

type streams []stream

func (q streams) Len() int { return len(q) }
func (q streams) Less(i, j int) bool {
	ti, tj := q[i].time(), q[j].time()
	if !ti.Equal(tj) {
		return ti.Before(tj)
	}
	return q[i].order() < q[j].order()
}
func (q streams) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *streams) Push(x any)   { *q = append(*q, x.(stream)) }
func (q *streams) Pop() any {
	old := *q
	s := old[len(old)-1]
	*q = old[:len(old)-1]
	return s
}
