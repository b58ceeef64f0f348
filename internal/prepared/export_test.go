package prepared

// Kept is how many statements s keeps prepared on the writer pool.
func (s *Statements) Kept() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.writer.byText)
}
