// Package client is `vqlq client`: the process on an endpoint that runs
// the CLIENT_EVENT artifacts its server's client event table gives it and
// delivers their rows to the server's queues.
//
// Its promise is the queues': a row a source emitted is kept until the
// server has stored it. Rows go first to a buffer on the client's own
// disk (a badger store in its data folder), numbered; a sender reads the
// buffer in order, posts batches, and drops rows only once the server's
// answer covers them. A batch whose answer was lost is sent again, and
// the server, which keeps the last number it stored of each client and
// queue, stores none of it twice. When the server is away the sources
// go on and the buffer grows, up to its bound (--max-buffer): then the
// sources pause, as Velociraptor's client ring buffer pauses its
// queries, and the client reports it (status and a log line) until the
// server takes rows again. Nothing is dropped.
//
// The client learns what to run from a long-lived stream (see package
// clientapi), so a change of the table reaches it within a round trip;
// it keeps the last table it received in its folder, so that after a
// restart without the server it runs what it ran before.
package client
