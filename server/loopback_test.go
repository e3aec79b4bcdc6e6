package server_test

import (
	"net/http/httptest"

	"github.com/vqlq/vqlq/server"
)

func newLoopbackServer(s *server.Server) *httptest.Server { return httptest.NewServer(s.Handler()) }
