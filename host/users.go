package host

import (
	"bufio"
	"context"
	"io"
	"iter"
	"os"
	"strconv"
	"strings"

	"github.com/Velocidex/ordereddict"

	"github.com/vqlq/vqlq/vql"
)

// passwdFile is where the local accounts are.
const passwdFile = "/etc/passwd"

// Users lists the local accounts from /etc/passwd: Name, Uid, Gid,
// Description (the GECOS field), Homedir, Shell. Velociraptor's users()
// enumerates Windows accounts (Name, Description, …); on Linux its
// artifacts parse /etc/passwd into these columns, which users() now
// gives directly. Accounts held only by a directory service (LDAP, macOS
// Open Directory) are not listed.
var Users = vql.PluginFunc{
	Meta: vql.Info{Name: "users", Doc: "The local accounts, from /etc/passwd: Name, Uid, Gid, Description, Homedir, Shell.",
		Permissions: perms(vql.PermMachineState)},
	Fn: func(ctx context.Context, scope *vql.Scope, args *vql.Args) iter.Seq[vql.Row] {
		return func(yield func(vql.Row) bool) {
			f, err := os.Open(passwdFile)
			if err != nil {
				scope.Errorf("users: %v", err)
				return
			}
			defer f.Close()
			for row := range passwdRows(ctx, f) {
				if !yield(row) {
					return
				}
			}
		}
	},
}

// passwdRows parses passwd(5) lines; comments, blank and short lines are
// skipped, a uid or gid that is not a number is NULL.
func passwdRows(ctx context.Context, r io.Reader) iter.Seq[*ordereddict.Dict] {
	return func(yield func(*ordereddict.Dict) bool) {
		sc := bufio.NewScanner(r)
		for sc.Scan() && ctx.Err() == nil {
			line := sc.Text()
			if strings.HasPrefix(line, "#") {
				continue
			}
			f := strings.Split(line, ":")
			if len(f) < 7 {
				continue
			}
			row := ordereddict.NewDict().Set("Name", f[0]).Set("Uid", number(f[2])).Set("Gid", number(f[3])).
				Set("Description", f[4]).Set("Homedir", f[5]).Set("Shell", f[6])
			if !yield(row) {
				return
			}
		}
	}
}

// number is a decimal field as an int64, NULL when it is not one.
func number(s string) any {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil
	}
	return n
}
