package host_test

import (
	"fmt"
	"os/user"
	"testing"

	"github.com/vqlq/vqlq/internal/vqltest"
)

// TestUsersQuery finds root and the account running the test in the
// machine's real /etc/passwd.
func TestUsersQuery(t *testing.T) {
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	vqltest.RunWith(t, all, []vqltest.Case{
		{"root", "SELECT Name, Uid, Gid FROM users() WHERE Name = 'root'", `[{"Name":"root","Uid":0,"Gid":0}]`, ""},
		{"me", fmt.Sprintf("SELECT Name, Uid, Homedir FROM users() WHERE Uid = %s", u.Uid),
			fmt.Sprintf(`[{"Name":%q,"Uid":%s,"Homedir":%q}]`, u.Username, u.Uid, u.HomeDir), ""},
	})
}
