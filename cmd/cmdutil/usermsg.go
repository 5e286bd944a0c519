package cmdutil

import (
	"regexp"
	"strings"
)

// internalPrefix is a package's "where it comes from" prefix, at the start of an error message or of a
// wrapped part of it ("…: providers/local: …"). Errors keep them inside edgegw (STYLE.md); what the user
// reads says what happened, in the words of the command they ran and the target they named.
var internalPrefix = regexp.MustCompile(`(^|: )(?:providers/([a-z0-9][a-z0-9_-]*)|providers|dnscheck(?:/[a-z]+)?|testrun(?:: ref)?|gateway|jwtverify|render|ir|endpoint|boundedio): `)

// UserText is an error message as the user reads it: package prefixes removed, a target's provider
// prefix ("providers/local: ") kept as the target's name ("local: ").
func UserText(msg string) string {
	for range 8 { // prefixes can be nested; each pass removes one level
		next := internalPrefix.ReplaceAllStringFunc(msg, func(m string) string {
			sub := internalPrefix.FindStringSubmatch(m)
			if sub[2] != "" {
				return sub[1] + sub[2] + ": "
			}
			return sub[1]
		})
		if next == msg {
			break
		}
		msg = next
	}
	return strings.TrimSpace(msg)
}

// UserMessage is UserText of err's message.
func UserMessage(err error) string { return UserText(err.Error()) }
