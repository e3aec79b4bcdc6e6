package server_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzSendBody sends arbitrary bodies: each is stored whole (200) or
// refused with a client error that says why; nothing panics or answers 5xx.
func FuzzSendBody(f *testing.F) {
	for _, seed := range []string{
		`{"n":1}`, "{\"n\":1}\n{\"n\":2}\n", `[{"n":1},{"n":2}]`, `{"n":1}{"n":2}`, "{\n\"a\":1\n}", `[{"n":1}, 2]`,
		`[`, `]`, `{"a":`, "\n\n", `[[{}]]`, `{"a":1e999}`, "[{}]\n[{}]", `"x"`,
	} {
		f.Add(seed)
	}
	e := newAPIEnv(f, 0)
	h := e.srv.Handler()
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest("POST", send, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+e.tokens["admin"])
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch {
		case rec.Code == http.StatusOK:
		case rec.Code >= 400 && rec.Code < 500 && strings.HasPrefix(rec.Body.String(), `{"error":"`):
		default:
			t.Fatalf("%q: %d %s", body, rec.Code, rec.Body.String())
		}
	})
}
