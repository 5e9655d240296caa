package vanilla

import (
	"strconv"
	"strings"

	"github.com/saharagen/terraform-provider-saharagen/sahara"
)

// asHadoop runs inner as the hadoop user with Sahara's exact command line,
// `sudo su - -c "<inner>" hadoop`, when double quotes leave inner untouched;
// otherwise inner is passed as one single-quoted word, so a hostile value
// can never reach the outer shell.
func asHadoop(inner string) string {
	if !strings.ContainsAny(inner, "\"$`\\") {
		return `sudo su - -c "` + inner + `" ` + hadoopUser
	}
	return "sudo su - -c " + sahara.MustQuote(inner) + " " + hadoopUser
}

// squote is sahara.Quote forced into single quotes, which is how Sahara
// writes host lists ('a\nb'); values Quote leaves bare hold no quote.
func squote(s string) (string, error) {
	q, err := sahara.Quote(s)
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(q, "'") {
		q = "'" + q + "'"
	}
	return q, nil
}

// plainPath reports whether p is an absolute path of letters, digits and
// "/._-": the only paths the plugin puts into sed expressions and scripts.
func plainPath(p string) bool {
	if !strings.HasPrefix(p, "/") {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.IndexByte("/._-", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func itoa(n int) string { return strconv.Itoa(n) }
