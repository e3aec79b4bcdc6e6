// Package artifacts reads artifact definitions (the YAML documents that
// name event queues and carry VQL sources) and keeps the repository of
// them per org: the built-ins shipped inside the binary, the ones loaded
// from a definitions folder, and the ones set at run time, which are
// stored so that they survive a restart.
//
// The format is Velociraptor's, field for field (see Parse), so that a
// library written for it loads as it is; a folder with some files vqlq
// cannot use loads the others (see LoadDir).
//
// The contract is the "Artifacts" section of spec/queues.md: the queue
// store asks this package which artifacts exist, of what type, and so
// which queues must exist and which of them are backed by disk.
package artifacts
