package host

import (
	"context"
	"strings"
	"testing"

	"github.com/vqlq/vqlq/vql/value"
)

func TestPasswdRows(t *testing.T) {
	passwd := "root:x:0:0:root:/root:/bin/bash\n# a comment\n\nalice:x:1000:1000:Alice Liddell,,,:/home/alice:/bin/zsh\nshort:x:1\nodd:x:u:g:::\n"
	var got []string
	for row := range passwdRows(context.Background(), strings.NewReader(passwd)) {
		b, _ := value.EncodeJSON(row)
		got = append(got, string(b))
	}
	want := []string{
		`{"Name":"root","Uid":0,"Gid":0,"Description":"root","Homedir":"/root","Shell":"/bin/bash"}`,
		`{"Name":"alice","Uid":1000,"Gid":1000,"Description":"Alice Liddell,,,","Homedir":"/home/alice","Shell":"/bin/zsh"}`,
		`{"Name":"odd","Uid":null,"Gid":null,"Description":"","Homedir":"","Shell":""}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
