package functions_test

import (
	"testing"

	"github.com/vqlq/vqlq/internal/vqltest"
)

func TestGrok(t *testing.T) {
	const ssh = `%{SYSLOGTIMESTAMP:timestamp} (?:%{SYSLOGFACILITY} )?%{SYSLOGHOST:logsource} %{SYSLOGPROG}: %{DATA:event} %{DATA:method} for (invalid user )?%{DATA:user} from %{IPORHOST:ip} port %{NUMBER:port} ssh2(: %{GREEDYDATA:system.auth.ssh.signature})?`
	const iis = `%{TIMESTAMP_ISO8601:LogTimeStamp} %{IPORHOST:Site} %{WORD:Method} %{URIPATH:UriPath} %{NOTSPACE:QueryString} %{NUMBER:Port} %{NOTSPACE:Username} %{IPORHOST:Clienthost} %{NOTSPACE:Useragent} %{NOTSPACE:Referrer} %{NUMBER:Response} %{NUMBER:Subresponse} %{NUMBER:Win32status} %{NUMBER:Timetaken:int}`
	vqltest.Run(t, []vqltest.Case{
		{"sshd accepted", `SELECT grok(grok='` + ssh + `', data="Mar  3 10:01:02 web1 sshd[4242]: Accepted publickey for alice from 10.0.0.5 port 52311 ssh2: RSA SHA256:abc") AS E FROM scope()`,
			`[{"E":{"timestamp":"Mar  3 10:01:02","logsource":"web1","program":"sshd","pid":"4242","event":"Accepted","method":"publickey","user":"alice","ip":"10.0.0.5","port":"52311","system.auth.ssh.signature":"RSA SHA256:abc"}}]`, ""},
		{"iis line with a conversion", `SELECT grok(grok='` + iis + `', data="2024-01-02 03:04:05 10.1.1.1 GET /index.html - 443 - 192.168.0.9 Mozilla/5.0 - 200 0 0 15") AS E FROM scope()`,
			`[{"E":{"LogTimeStamp":"2024-01-02 03:04:05","Site":"10.1.1.1","Method":"GET","UriPath":"/index.html","QueryString":"-","Port":"443","Username":"-","Clienthost":"192.168.0.9","Useragent":"Mozilla/5.0","Referrer":"-","Response":"200","Subresponse":"0","Win32status":"0","Timetaken":15}}]`, ""},
		{"systemctl columns", `SELECT grok(grok="%{NOTSPACE:Unit}%{SPACE}%{NOTSPACE:Load}%{SPACE}%{NOTSPACE:Active}%{SPACE}%{NOTSPACE:Sub}%{SPACE}%{GREEDYDATA:Description}", data="cron.service   loaded active running Regular background program") AS E FROM scope()`,
			`[{"E":{"Unit":"cron.service","Load":"loaded","Active":"active","Sub":"running","Description":"Regular background program"}}]`, ""},
		{"extra patterns and a list of expressions", `SELECT grok(grok=["%{NOPE2:x}", "id=%{ID:id:int}"], data="id=42", patterns=dict(ID="[0-9]+", NOPE2="zzz")) AS a, grok(grok="%{INT:n:float}", data="n 7") AS b FROM scope()`,
			`[{"a":{"id":42},"b":{"n":7}}]`, ""},
		{"no match is NULL", `SELECT grok(grok="%{IPV4:ip}", data="no address") AS E FROM scope()`, `[{"E":null}]`, ""},
		{"unknown pattern", `SELECT grok(grok="%{NOSUCH:x}", data="a") AS E FROM scope()`, `[{"E":null}]`, `grok: "%{NOSUCH:x}": no pattern named NOSUCH`},
		{"self-referencing pattern", `SELECT grok(grok="%{LOOP:x}", data="a", patterns=dict(LOOP="%{LOOP}")) AS E FROM scope()`, `[{"E":null}]`, "patterns nest deeper than 50"},
	})
}
