package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
	"unicode/utf8"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql/value"
)

// maxBodyRows bounds one send request.
const maxBodyRows = 100000

// bodyError is why a request's body was refused.
type bodyError struct {
	status int
	reason string // for vqlq_http_refused_total
	msg    string
}

func (e *bodyError) Error() string { return e.msg }

func badBody(format string, args ...any) *bodyError {
	return &bodyError{http.StatusBadRequest, reasonBadRequest, fmt.Sprintf(format, args...)}
}

// limitBody returns the request's body, which reading stops at --max-body;
// a body that says it is longer is refused before anything is read.
func (s *Server) limitBody(w http.ResponseWriter, r *http.Request) (io.Reader, *bodyError) {
	if r.ContentLength > s.opts.MaxBody {
		return nil, s.bodyTooLarge()
	}
	// A slow upload holds a goroutine and its rows: it has a deadline
	// (lifted again by the handler once the body is read).
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(bodyReadTimeout))
	return http.MaxBytesReader(w, r.Body, s.opts.MaxBody), nil
}

func (s *Server) bodyTooLarge() *bodyError {
	return &bodyError{http.StatusRequestEntityTooLarge, reasonBodyTooLarge,
		fmt.Sprintf("body over the limit of %d bytes (vqlq serve --max-body)", s.opts.MaxBody)}
}

// readError explains a failure to read the body.
func (s *Server) readError(err error) *bodyError {
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return s.bodyTooLarge()
	case errors.Is(err, os.ErrDeadlineExceeded):
		return &bodyError{http.StatusRequestTimeout, reasonBadRequest, fmt.Sprintf("reading the body took longer than %v", bodyReadTimeout)}
	}
	return badBody("reading the body: %v", err)
}

// readBody reads a whole body (a query), within --max-body.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, *bodyError) {
	body, berr := s.limitBody(w, r)
	if berr != nil {
		return nil, berr
	}
	defer http.NewResponseController(w).SetReadDeadline(time.Time{})
	// In pieces, joined once it is all in: a body refused at the limit has
	// cost the limit, not the copies of a growing buffer.
	var parts [][]byte
	for {
		part := make([]byte, 64<<10)
		n, err := io.ReadFull(body, part)
		parts = append(parts, part[:n])
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return nil, s.readError(err)
		}
	}
	return bytes.Join(parts, nil), nil
}

// readRows reads a send request's body as it arrives: NDJSON, one row a
// line, or one JSON object (which may span lines). Each row is checked as
// it arrives: within --max-row-bytes (a longer line is not read further),
// a JSON object; the body within --max-body and maxBodyRows. Rows are held
// as their JSON text until all are checked, and only then decoded, so a
// refused body costs at most --max-body of memory.
func (s *Server) readRows(w http.ResponseWriter, r *http.Request) ([]any, *bodyError) {
	body, berr := s.limitBody(w, r)
	if berr != nil {
		return nil, berr
	}
	defer http.NewResponseController(w).SetReadDeadline(time.Time{})
	limit := s.opts.MaxRowBytes
	br := bufio.NewReaderSize(body, 64<<10)
	if firstByte(br) == '[' {
		return s.readArray(br)
	}
	var held rowBuffer
	var line []byte
	n, lineNo := 0, 0
	for {
		var err error
		line, err = nextLine(br, line[:0], limit)
		lineNo++
		var long *lineTooLong
		if errors.As(err, &long) {
			return nil, s.rowTooLarge(n+1, long)
		}
		if err != nil && err != io.EOF {
			return nil, s.readError(err)
		}
		if len(line) > 0 {
			n++
			if n > maxBodyRows {
				return nil, &bodyError{http.StatusRequestEntityTooLarge, reasonRowTooLarge, fmt.Sprintf("more than %d rows in one request", maxBodyRows)}
			}
			if line[0] != '{' || !json.Valid(line) {
				if n == 1 && line[0] == '{' && err == nil && truncated(line) {
					// One pretty-printed object: the whole body.
					return s.readObject(br, line)
				}
				return nil, rowError(n, lineNo, line)
			}
			held.add(line)
		}
		if err == io.EOF {
			break
		}
	}
	if n == 0 {
		return nil, badBody("empty body: send one JSON object or NDJSON")
	}
	rows := make([]any, len(held.rows))
	for i, raw := range held.rows {
		v, err := value.DecodeJSON(raw)
		if err != nil {
			return nil, badBody("row %d: malformed JSON: %v", i+1, err)
		}
		rows[i] = v
	}
	return rows, nil
}

// readObject reads the rest of a body whose first line opens a JSON object
// that does not end on it: the body is that one object, within
// --max-row-bytes.
func (s *Server) readObject(br *bufio.Reader, first []byte) ([]any, *bodyError) {
	limit := s.opts.MaxRowBytes
	obj := append([]byte{}, first...)
	var line []byte
	for {
		var err error
		line, err = nextLine(br, line[:0], limit)
		var long *lineTooLong
		if errors.As(err, &long) || len(obj)+1+len(line) > limit {
			return nil, &bodyError{http.StatusRequestEntityTooLarge, reasonRowTooLarge,
				fmt.Sprintf("row 1 (a JSON object over several lines) is more than %d bytes, over the limit of %d (vqlq serve --max-row-bytes)", limit, limit)}
		}
		if err != nil && err != io.EOF {
			return nil, s.readError(err)
		}
		if len(line) > 0 {
			obj = append(append(obj, '\n'), line...)
		}
		if err == io.EOF {
			break
		}
	}
	if !json.Valid(obj) {
		return nil, rowError(1, 1, obj)
	}
	v, err := value.DecodeJSON(obj)
	if err != nil {
		return nil, badBody("row 1: malformed JSON: %v", err)
	}
	return []any{v}, nil
}

// truncated reports whether a line is the beginning of a JSON value that
// goes on (rather than a syntax error).
func truncated(line []byte) bool {
	_, err := value.DecodeJSON(line)
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// rowError says what is wrong with row n, which starts on line lineNo of
// the body and is not a JSON object, and where.
func rowError(n, lineNo int, text []byte) *bodyError {
	if next := secondValue(text); next > 0 {
		return badBody("row %d: a second JSON value begins at %s; send NDJSON (one object a line), one object, or a JSON array", n, position(text, lineNo, next))
	}
	var raw json.RawMessage
	err := json.Unmarshal(text, &raw)
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return badBody("row %d: malformed JSON at %s: %v", n, position(text, lineNo, int(syntax.Offset)-1), err)
	}
	if err != nil {
		return badBody("row %d: malformed JSON: %v", n, err)
	}
	v, _ := value.DecodeJSON(text)
	return badBody("send_event: row %d (line %d) must be a dict, not %s", n, lineNo, value.TypeName(v))
}

// secondValue is the offset of a JSON object or array that follows a
// complete first value in text (`{"n":1}{"n":2}`), or 0.
func secondValue(text []byte) int {
	dec := json.NewDecoder(bytes.NewReader(text))
	var raw json.RawMessage
	if dec.Decode(&raw) != nil {
		return 0
	}
	end := int(dec.InputOffset())
	rest := bytes.TrimLeft(text[end:], space)
	if len(rest) == 0 || (rest[0] != '{' && rest[0] != '[') {
		return 0
	}
	return len(text) - len(rest)
}

// position names byte offset off of text, which starts on line lineNo of
// the body, as "line L, column C" (columns count runes from 1).
func position(text []byte, lineNo, off int) string {
	off = min(max(off, 0), len(text))
	before := text[:off]
	line := lineNo + bytes.Count(before, []byte{'\n'})
	if i := bytes.LastIndexByte(before, '\n'); i >= 0 {
		before = before[i+1:]
	}
	return fmt.Sprintf("line %d, column %d", line, utf8.RuneCount(before)+1)
}

// firstByte is the first byte of the body that is not white space (0 if
// none), left unread.
func firstByte(br *bufio.Reader) byte {
	for {
		b, err := br.Peek(1)
		if err != nil {
			return 0
		}
		if !bytes.ContainsRune([]byte(space), rune(b[0])) {
			return b[0]
		}
		_, _ = br.ReadByte()
	}
}

// readArray reads a body that is one JSON array of objects: every element
// is checked (a JSON object, within --max-row-bytes, at most maxBodyRows)
// before any is stored, all or nothing like NDJSON. The whole array is
// held, within --max-body.
func (s *Server) readArray(br *bufio.Reader) ([]any, *bodyError) {
	text, err := io.ReadAll(br)
	if err != nil {
		return nil, s.readError(err)
	}
	dec := json.NewDecoder(bytes.NewReader(text))
	if _, err := dec.Token(); err != nil { // [
		return nil, badBody("malformed JSON array: %v", err)
	}
	var rows []any
	for n := 1; dec.More(); n++ {
		start := int(dec.InputOffset())
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			var syntax *json.SyntaxError
			if errors.As(err, &syntax) {
				return nil, badBody("element %d of the array: malformed JSON at %s: %v", n, position(text, 1, int(syntax.Offset)-1), err)
			}
			return nil, badBody("element %d of the array: malformed JSON: %v", n, err)
		}
		at := position(text, 1, start+len(text[start:])-len(bytes.TrimLeft(text[start:], space+",")))
		if n > maxBodyRows {
			return nil, &bodyError{http.StatusRequestEntityTooLarge, reasonRowTooLarge, fmt.Sprintf("more than %d rows in one request", maxBodyRows)}
		}
		if len(raw) > s.opts.MaxRowBytes {
			return nil, &bodyError{http.StatusRequestEntityTooLarge, reasonRowTooLarge,
				fmt.Sprintf("element %d of the array (%s) is %d bytes, over the limit of %d (vqlq serve --max-row-bytes)", n, at, len(raw), s.opts.MaxRowBytes)}
		}
		v, err := value.DecodeJSON(raw)
		if err != nil {
			return nil, badBody("element %d of the array (%s): malformed JSON: %v", n, at, err)
		}
		if _, ok := v.(*ordereddict.Dict); !ok {
			return nil, badBody("send_event: element %d of the array (%s) must be a dict, not %s", n, at, value.TypeName(v))
		}
		rows = append(rows, v)
	}
	if _, err := dec.Token(); err != nil { // ]
		return nil, badBody("malformed JSON array: %v", err)
	}
	if rest := bytes.TrimLeft(text[dec.InputOffset():], space); len(rest) > 0 {
		return nil, badBody("text after the JSON array at %s: send one array, one object, or NDJSON", position(text, 1, len(text)-len(rest)))
	}
	if len(rows) == 0 {
		return nil, badBody("empty array: nothing to send")
	}
	return rows, nil
}

func (s *Server) rowTooLarge(n int, long *lineTooLong) *bodyError {
	size := fmt.Sprintf("more than %d", s.opts.MaxRowBytes)
	if long.whole {
		size = fmt.Sprint(long.read)
	}
	return &bodyError{http.StatusRequestEntityTooLarge, reasonRowTooLarge,
		fmt.Sprintf("row %d is %s bytes, over the limit of %d (vqlq serve --max-row-bytes)", n, size, s.opts.MaxRowBytes)}
}

// lineTooLong is a line over the limit; read is how much of it was read
// (its length if whole).
type lineTooLong struct {
	read  int
	whole bool
}

func (e *lineTooLong) Error() string { return fmt.Sprintf("line of %d bytes", e.read) }

// space is what nextLine trims around a line while reading it.
const space = " \t\r\n\v\f"

// nextLine reads the next line into buf, without the white space around
// it. A line longer than limit is not read further: the error is a
// *lineTooLong. At the end of the body the error is io.EOF, with the last
// line (perhaps empty).
func nextLine(br *bufio.Reader, buf []byte, limit int) ([]byte, error) {
	for {
		frag, err := br.ReadSlice('\n')
		if len(buf) == 0 {
			frag = bytes.TrimLeft(frag, space)
		}
		buf = append(buf, frag...)
		if len(buf) > limit {
			buf = bytes.TrimRight(buf, space)
			if len(buf) > limit {
				return buf, &lineTooLong{read: len(buf), whole: err == nil || err == io.EOF}
			}
		}
		switch err {
		case bufio.ErrBufferFull:
			continue
		case nil, io.EOF:
			return bytes.TrimSpace(buf), err
		}
		return nil, err
	}
}

// rowBuffer holds the rows of a body back to back in slabs of 1 MB (a
// large row in a slab of its own), so holding them costs little more than
// the body.
type rowBuffer struct {
	slab []byte
	rows [][]byte
}

const slabSize = 1 << 20

func (b *rowBuffer) add(p []byte) {
	if len(p) > slabSize/4 {
		b.rows = append(b.rows, append([]byte(nil), p...))
		return
	}
	if len(p) > cap(b.slab)-len(b.slab) {
		b.slab = make([]byte, 0, slabSize)
	}
	i := len(b.slab)
	b.slab = append(b.slab, p...)
	b.rows = append(b.rows, b.slab[i:len(b.slab):len(b.slab)])
}
