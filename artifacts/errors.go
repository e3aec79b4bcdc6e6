package artifacts

import "strconv"

// DefinitionError is a problem in a definition's text. It carries the file
// and line so that a user with many definition files (or a long
// artifact_set() argument) can go straight to the mistake.
type DefinitionError struct {
	// File names where the text came from; empty for text given at run
	// time, such as an artifact_set() argument.
	File string
	// Line is 1-based; 0 when no line applies.
	Line int
	// Msg says what is wrong, without the position.
	Msg string
}

// Error formats the problem as file:line: message, the form editors and
// terminals recognise.
func (e *DefinitionError) Error() string {
	switch {
	case e.File != "" && e.Line > 0:
		return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Msg
	case e.File != "":
		return e.File + ": " + e.Msg
	case e.Line > 0:
		return "line " + strconv.Itoa(e.Line) + ": " + e.Msg
	}
	return e.Msg
}
