package console

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// documentsJSON is the console's trusted-document list, sha256 → operation, written by
// `go generate ./console` from static/documents.js.
//
//go:generate go run ./gendocs
//go:embed documents.json
var documentsJSON []byte

// Documents are the operations the console sends, keyed by the sha256 of their text: Herald
// trusts them whatever HERALD_TRUSTED_DOCUMENTS lists.
func Documents() map[string]string {
	var docs map[string]string
	if err := json.Unmarshal(documentsJSON, &docs); err != nil {
		panic(fmt.Sprintf("console: documents.json: %v", err)) // embedded: a build defect
	}
	return docs
}

// exportedDocument is one `export const NAME = `...`;` of a documents.js.
var exportedDocument = regexp.MustCompile("(?s)export const ([A-Z][A-Z0-9_]*) = `([^`]*)`;")

// ParseDocuments reads the operations a documents.js exports, keyed by sha256. Each must be literal
// text: an interpolation would make the text sent differ from the text listed.
func ParseDocuments(src []byte) (map[string]string, error) {
	docs := map[string]string{}
	matches := exportedDocument.FindAllSubmatch(src, -1)
	if exports := strings.Count(string(src), "export const "); exports != len(matches) {
		return nil, fmt.Errorf("%d exports, of which %d are `export const NAME = `...`;`: every export must be an operation in that form", exports, len(matches))
	}
	for _, m := range matches {
		name, doc := string(m[1]), string(m[2])
		// Escapes and CR line ends would make the browser's string differ from the source text.
		if strings.Contains(doc, "${") || strings.ContainsAny(doc, "\\\r") {
			return nil, fmt.Errorf("%s interpolates, escapes or holds a CR: a trusted document must be literal text", name)
		}
		sum := sha256.Sum256([]byte(doc))
		docs[hex.EncodeToString(sum[:])] = doc
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("no `export const NAME = `...`;` operations found")
	}
	return docs, nil
}

// DocumentsJSON is docs as documents.json holds them: sorted, indented, one line per document.
func DocumentsJSON(docs map[string]string) ([]byte, error) {
	b, err := json.MarshalIndent(docs, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
