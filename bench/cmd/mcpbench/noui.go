package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
)

// noUIMain is `mcpbench noui-main [-also PKG,...] main.go`: it prints
// main.go without the ui package (and the packages -also names), for a
// build (go build -overlay) that shows what linking fyne (and the demo
// server, test/fakeas with mcp-go's server) costs `mcpauth connect`.
// Every function but main that uses one of them gets a body that panics,
// and the imports left unused go.
func noUIMain(args []string) int {
	pkgs := []string{"ui"}
	if len(args) == 3 && args[0] == "-also" {
		pkgs = append(pkgs, strings.Split(args[1], ",")...)
		args = args[2:]
	}
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: mcpbench noui-main [-also PKG,...] main.go")
		return 2
	}
	out, err := stripPkgs(args[0], pkgs)
	if err != nil {
		fmt.Fprintf(os.Stderr, "mcpbench noui-main: %v\n", err)
		return 1
	}
	os.Stdout.Write(out)
	return 0
}

func stripPkgs(path string, pkgs []string) ([]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	uses := func(n ast.Node, pkg string) bool {
		found := false
		ast.Inspect(n, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == pkg {
					found = true
				}
			}
			return !found
		})
		return found
	}
	stripped := map[string]bool{}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok {
			continue
		}
		pkg := ""
		for _, p := range pkgs {
			if uses(fd, p) {
				pkg = p
			}
		}
		if pkg == "" {
			continue
		}
		if fd.Name.Name == "main" {
			return nil, fmt.Errorf("main() itself uses package %s", pkg)
		}
		fd.Body = &ast.BlockStmt{List: []ast.Stmt{&ast.ExprStmt{X: &ast.CallExpr{
			Fun:  ast.NewIdent("panic"),
			Args: []ast.Expr{&ast.BasicLit{Kind: token.STRING, Value: strconv.Quote("built without package " + pkg + " (mcpbench noui-main)")}},
		}}}}
		stripped[pkg] = true
	}
	for _, p := range pkgs {
		if !stripped[p] {
			return nil, fmt.Errorf("no function uses package %s", p)
		}
	}
	// Drop the imports nothing uses any more.
	var kept []ast.Spec
	for _, gd := range f.Decls {
		g, ok := gd.(*ast.GenDecl)
		if !ok || g.Tok != token.IMPORT {
			continue
		}
		kept = kept[:0]
		for _, s := range g.Specs {
			is := s.(*ast.ImportSpec)
			p, _ := strconv.Unquote(is.Path.Value)
			name := p[bytes.LastIndexByte([]byte(p), '/')+1:]
			if is.Name != nil {
				name = is.Name.Name
			}
			if name == "_" || usesAnywhere(f, name) {
				kept = append(kept, s)
			}
		}
		g.Specs = append([]ast.Spec(nil), kept...)
	}
	f.Comments = nil // they would float to odd places; nobody reads this file
	var buf bytes.Buffer
	if err := format.Node(&buf, fset, f); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func usesAnywhere(f *ast.File, pkg string) bool {
	found := false
	for _, d := range f.Decls {
		if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.IMPORT {
			continue
		}
		ast.Inspect(d, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == pkg {
					found = true
				}
			}
			return !found
		})
	}
	return found
}
