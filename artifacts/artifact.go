package artifacts

import "github.com/vqlq/vqlq/vql"

// Type is the kind of an artifact. It decides whether the artifact has an
// event queue, and whether that queue is kept on disk.
type Type string

// The artifact types vqlq knows. A definition may spell them in any case;
// Parse stores them upper case.
const (
	// TypeClient is a collection run on a client; it has no queue. It is
	// the default when a definition gives no type.
	TypeClient Type = "CLIENT"
	// TypeServer is a collection run on the server; it has no queue.
	TypeServer Type = "SERVER"
	// TypeClientEvent establishes a disk-backed queue fed by clients.
	TypeClientEvent Type = "CLIENT_EVENT"
	// TypeServerEvent establishes a disk-backed queue that send_event()
	// can write to.
	TypeServerEvent Type = "SERVER_EVENT"
	// TypeInternal establishes an in-memory queue carrying events between
	// parts of the server.
	TypeInternal Type = "INTERNAL"
	// TypeNotebook is a server-side artifact meant for notebooks: its
	// sources run on the server; it has no queue.
	TypeNotebook Type = "NOTEBOOK"
)

// allTypes lists the types in the order error messages name them.
var allTypes = []Type{TypeClient, TypeServer, TypeClientEvent, TypeServerEvent, TypeInternal, TypeNotebook}

// Artifact is one parsed definition: what the queue store needs to set up
// queues and what artifact_definitions() shows. The values Builtins and
// Repository hand out are shared between callers: treat them as read-only.
type Artifact struct {
	// Name is the dotted name, unique in its org; event artifacts' queues
	// are named after it.
	Name string
	// Description is free text for people, kept as written.
	Description string
	// Author is free text, kept as written.
	Author string
	// Reference lists links or citations, kept as written.
	Reference []string
	// Type is the normalised (upper case) artifact type.
	Type Type
	// Parameters are the named inputs of the sources, in definition order.
	Parameters []Parameter
	// Sources are the VQL queries of the artifact, in definition order.
	Sources []Source
	// ColumnTypes is carried through as decoded YAML (maps, lists,
	// scalars) for the callers that display it; vqlq does not interpret it.
	ColumnTypes []any
	// Precondition is optional VQL run before the sources: when it yields
	// no row, the sources are skipped. A source's own precondition takes
	// its place for that source, as in Velociraptor.
	Precondition string
	// Export is VQL (LETs) in scope for every source, and for the sources
	// of the artifacts that import this one.
	Export string
	// Imports names the artifacts whose Export is in scope for the
	// sources, before this artifact's own.
	Imports []string
	// Tools, Reports and Resources are carried through as decoded YAML:
	// they describe external binaries, report templates and limits that
	// Velociraptor's server uses; vqlq shows them and does not act on them.
	Tools, Reports []any
	Resources      any
	// RequiredPermissions are what a session must hold to run the
	// artifact (Artifact.X(), collect(), server monitoring);
	// ImpliedPermissions are granted to its sources while they run. Both
	// are Velociraptor's names, checked when the definition is read.
	// Impersonate names the user a server artifact runs as in
	// Velociraptor; vqlq shows it.
	RequiredPermissions, ImpliedPermissions []string
	Impersonate                             string
	// Aliases are other names the artifact is known by in Velociraptor.
	Aliases []string
	// Imported is filled by Repository.Get: the exports of Imports, in
	// order, as the caller's org sees them when it asks.
	Imported []Import
	// BuiltIn is true for the definitions shipped inside the binary, which
	// users can neither replace nor delete.
	BuiltIn bool
	// Text is the YAML exactly as given, so a definition can be stored and
	// shown again without re-encoding it.
	Text string

	// nameLine is the line of the name field, for errors that blame the
	// name after parsing (duplicates, built-in collisions).
	nameLine int
	// preconditionAt and exportAt are where those texts sit in the
	// definition, for the check's positions.
	preconditionAt, exportAt textAt
	// importsLine is the line of the imports field.
	importsLine int
}

// Import is one artifact an artifact imports, resolved.
type Import struct {
	Name string
	// Export is the imported artifact's export; Found is false when no
	// such artifact exists.
	Export string
	Found  bool
}

// Parameter is one input of an artifact's sources. Default is kept as text
// whatever YAML scalar it was written as, since VQL parameters arrive as
// strings and are converted by the query itself.
type Parameter struct {
	// Name is the variable the sources see the value under.
	Name string
	// Default is the value when the caller gives none, as text.
	Default string
	// Description is free text for people.
	Description string
	// Type says how the text is turned into the value the sources see
	// (int, bool, csv, json, timestamp, choices, ...; see
	// Convert). A type vqlq does not know is plain text, as in
	// Velociraptor.
	Type string
	// FriendlyName is the label a form shows instead of Name.
	FriendlyName string
	// ValidatingRegex, when set, is a pattern a given value must match.
	ValidatingRegex string
	// ArtifactType narrows an artifactset parameter to one artifact type.
	ArtifactType string
	// Choices are the allowed values of a choices (or multichoice)
	// parameter.
	Choices []string
}

// Source is one query of an artifact. A named source gets its own queue
// (Artifact/Source) when the artifact is an event artifact.
type Source struct {
	// Name is optional; when set it names the source's own queue.
	Name string
	// Description is free text for people.
	Description string
	// Query is the VQL text, not parsed here: the engine reports its
	// errors when it runs it.
	Query string
	// Precondition is optional VQL deciding whether the source runs.
	Precondition string
	// Notebook holds the source's notebook cells as decoded YAML, shown
	// and not run.
	Notebook []any

	// nameLine is the line of the name, for the message that refuses it.
	nameLine int
	// queryAt and preconditionAt are where the texts sit in the
	// definition, so that problems in the VQL are reported at the
	// definition's line and column.
	queryAt, preconditionAt textAt
}

// Required is RequiredPermissions as permissions.
func (a *Artifact) Required() []vql.Permission { return asPermissions(a.RequiredPermissions) }

// Implied is ImpliedPermissions as permissions.
func (a *Artifact) Implied() []vql.Permission { return asPermissions(a.ImpliedPermissions) }

func asPermissions(names []string) []vql.Permission {
	out := make([]vql.Permission, len(names))
	for i, n := range names {
		out[i] = vql.Permission(n)
	}
	return out
}

// RunsOnServer reports whether vqlq itself runs the artifact's queries:
// SERVER, SERVER_EVENT, INTERNAL and NOTEBOOK artifacts run here (monitoring,
// Artifact.X). CLIENT and CLIENT_EVENT queries are written for clients,
// whose plugins are their own, so vqlq does not judge them.
func (a *Artifact) RunsOnServer() bool {
	switch a.Type {
	case TypeServer, TypeServerEvent, TypeInternal, TypeNotebook:
		return true
	}
	return false
}

// IsEvent reports whether the artifact establishes an event queue: the
// queue store creates one for every such artifact in the repository.
func (a *Artifact) IsEvent() bool {
	switch a.Type {
	case TypeServerEvent, TypeClientEvent, TypeInternal:
		return true
	}
	return false
}

// Persisted reports whether the artifact's queues are backed by disk:
// SERVER_EVENT and CLIENT_EVENT are, INTERNAL (memory only, for speed) and
// non-event artifacts are not.
func (a *Artifact) Persisted() bool {
	return a.Type == TypeServerEvent || a.Type == TypeClientEvent
}

// QueueNames lists the queues the artifact establishes: one named after
// the artifact, and Name/Source for each named source. It is nil for
// artifacts that are not event artifacts, which have no queue.
func (a *Artifact) QueueNames() []string {
	if !a.IsEvent() {
		return nil
	}
	names := []string{a.Name}
	for _, s := range a.Sources {
		if s.Name != "" {
			names = append(names, a.Name+"/"+s.Name)
		}
	}
	return names
}
