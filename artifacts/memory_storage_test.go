package artifacts

import (
	"errors"
	"reflect"
	"testing"
)

func TestMemoryStorage(t *testing.T) {
	var s Storage = NewMemoryStorage()
	if _, ok, err := s.Get("a"); ok || err != nil {
		t.Fatalf("Get on empty storage: %v %v", ok, err)
	}
	buf := []byte("1")
	for k, v := range map[string][]byte{"a/2": buf, "a/1": []byte("x"), "b/1": []byte("y"), "a": nil} {
		if err := s.Put(k, v); err != nil {
			t.Fatal(err)
		}
	}
	buf[0] = '9' // the storage keeps its own copy
	if v, ok, err := s.Get("a/2"); !ok || err != nil || string(v) != "1" {
		t.Errorf("Get(a/2) = %q %v %v", v, ok, err)
	}
	if v, ok, _ := s.Get("a"); !ok || v == nil || len(v) != 0 {
		t.Errorf("Get(a) after Put(nil) = %#v %v, want empty and found", v, ok)
	}

	scan := func(prefix string) []string {
		var keys []string
		err := s.Scan(prefix, func(k string, v []byte) error {
			keys = append(keys, k+"="+string(v))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return keys
	}
	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		{"a/", []string{"a/1=x", "a/2=1"}},
		{"", []string{"a=", "a/1=x", "a/2=1", "b/1=y"}},
		{"c", nil},
	} {
		if got := scan(tc.prefix); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Scan(%q) = %q, want %q", tc.prefix, got, tc.want)
		}
	}

	stop := errors.New("stop")
	calls := 0
	err := s.Scan("", func(k string, v []byte) error {
		calls++
		if err := s.Put("c/"+k, v); err != nil { // fn may use the storage
			return err
		}
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("Scan with a failing fn: %v after %d calls", err, calls)
	}

	if err := s.Delete("a/1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("missing"); err != nil {
		t.Errorf("Delete(missing): %v", err)
	}
	if got := scan("a/"); !reflect.DeepEqual(got, []string{"a/2=1"}) {
		t.Errorf("after Delete: %q", got)
	}
}
