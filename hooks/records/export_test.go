package records

// Kept is how many statements s holds prepared.
func (s *WriterStatements) Kept() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byText)
}
