// Package schemagen writes what the shop's collections look like from
// outside: TypeScript types of their records for front-end developers
// (clients/ts/collections.d.ts) and an entity-relationship diagram
// (docs/schema.md). Both are read from the migrated schema, the one the
// shop serves, and from the doc comments of collections/, so neither is
// typed twice; a test keeps the committed files current.
package schemagen

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/dbutils"

	c "shopdash/collections"
)

// Collection is one shop collection as clients and the diagram see it.
type Collection struct {
	Name string
	Auth bool
	// Doc is the doc comment of the collection's name constant in collections/.
	Doc    string
	Fields []Field
	// Rules are the API rules in the order list, view, create, update,
	// delete; nil is superusers only.
	Rules [5]*string
}

// RuleActions names the entries of Collection.Rules.
var RuleActions = [5]string{"list", "view", "create", "update", "delete"}

// Field is one field of a collection.
type Field struct {
	Name     string
	Type     string // PocketBase's field type: text, number, select, relation, ...
	Hidden   bool
	Required bool
	Unique   bool
	// Multiple is set for a select, relation or file field that holds a list.
	Multiple bool
	// Values are the choices of a select field.
	Values []string
	// Target is the collection a relation field points to.
	Target string
	// Shape is the Go type of a JSON field whose content the shop fixes.
	Shape reflect.Type
	// Note says in a few words what the field accepts.
	Note string
}

// jsonShapes are the JSON fields whose content has a Go type in collections/.
var jsonShapes = map[string]reflect.Type{
	c.Users + "." + c.UserShippingAddress:   reflect.TypeFor[c.Address](),
	c.Orders + "." + c.OrderShippingAddress: reflect.TypeFor[c.Address](),
}

// Load reads the shop's collections (PocketBase's system collections aside)
// from a migrated app, sorted by name, each with the doc comment its name
// constant has in the Go package at collectionsDir.
func Load(app core.App, collectionsDir string) ([]Collection, error) {
	docs, err := collectionDocs(collectionsDir)
	if err != nil {
		return nil, err
	}
	all, err := app.FindAllCollections()
	if err != nil {
		return nil, fmt.Errorf("read collections: %w", err)
	}
	names := map[string]string{}
	for _, col := range all {
		names[col.Id] = col.Name
	}
	var out []Collection
	for _, col := range all {
		if col.System {
			continue
		}
		out = append(out, describe(col, names, docs[col.Name]))
	}
	slices.SortFunc(out, func(a, b Collection) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func describe(col *core.Collection, names map[string]string, doc string) Collection {
	unique := uniqueColumns(col)
	out := Collection{Name: col.Name, Auth: col.IsAuth(), Doc: doc,
		Rules: [5]*string{col.ListRule, col.ViewRule, col.CreateRule, col.UpdateRule, col.DeleteRule}}
	for _, f := range col.Fields {
		field := Field{Name: f.GetName(), Type: f.Type(), Hidden: f.GetHidden(), Unique: unique[f.GetName()]}
		switch f := f.(type) {
		case *core.TextField:
			field.Required = f.Required
			field.Note = lengthNote(f.Min, f.Max)
			if f.PrimaryKey {
				field.Required, field.Note = true, "record id"
			}
		case *core.EmailField:
			field.Required = f.Required
		case *core.URLField:
			field.Required = f.Required
		case *core.EditorField:
			field.Required = f.Required
		case *core.PasswordField:
			field.Required = f.Required
		case *core.NumberField:
			field.Required = f.Required
			field.Note = numberNote(f)
		case *core.DateField:
			field.Required = f.Required
		case *core.SelectField:
			field.Required, field.Values, field.Multiple = f.Required, f.Values, f.IsMultiple()
		case *core.RelationField:
			field.Required, field.Target, field.Multiple = f.Required, names[f.CollectionId], f.IsMultiple()
		case *core.FileField:
			field.Required, field.Multiple = f.Required, f.IsMultiple()
			if f.Protected {
				field.Note = "protected file"
			}
		case *core.JSONField:
			field.Required = f.Required
			field.Shape = jsonShapes[col.Name+"."+f.Name]
		}
		out.Fields = append(out.Fields, field)
	}
	return out
}

// uniqueColumns names the fields that a unique index of one column covers
// (partial ones included: "unique when set").
func uniqueColumns(col *core.Collection) map[string]bool {
	out := map[string]bool{}
	for _, raw := range col.Indexes {
		idx := dbutils.ParseIndex(raw)
		if idx.Unique && len(idx.Columns) == 1 {
			out[idx.Columns[0].Name] = true
		}
	}
	return out
}

func lengthNote(minLen, maxLen int) string {
	switch {
	case minLen > 0 && minLen == maxLen:
		return fmt.Sprintf("%d characters", minLen)
	case minLen > 0 && maxLen > 0:
		return fmt.Sprintf("%d–%d characters", minLen, maxLen)
	case maxLen > 0:
		return fmt.Sprintf("at most %d characters", maxLen)
	case minLen > 0:
		return fmt.Sprintf("at least %d characters", minLen)
	}
	return ""
}

func numberNote(f *core.NumberField) string {
	var parts []string
	if f.OnlyInt {
		parts = append(parts, "whole number")
	}
	if f.Min != nil {
		parts = append(parts, "≥ "+strconv.FormatFloat(*f.Min, 'f', -1, 64))
	}
	if f.Max != nil {
		parts = append(parts, "≤ "+strconv.FormatFloat(*f.Max, 'f', -1, 64))
	}
	return strings.Join(parts, ", ")
}

// collectionDocs maps each collection name to the doc comment of the
// string constant that holds it in the Go package at dir.
func collectionDocs(dir string) (map[string]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	docs := map[string]string{}
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ParseComments)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", path, err)
		}
		for _, decl := range file.Decls {
			gen, ok := decl.(*ast.GenDecl)
			if !ok || gen.Tok != token.CONST || gen.Lparen.IsValid() || gen.Doc == nil {
				continue
			}
			spec := gen.Specs[0].(*ast.ValueSpec)
			if len(spec.Values) != 1 {
				continue
			}
			if lit, ok := spec.Values[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				value, _ := strconv.Unquote(lit.Value)
				docs[value] = strings.Join(strings.Fields(gen.Doc.Text()), " ")
			}
		}
	}
	return docs, nil
}
