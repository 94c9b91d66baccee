// Placeholder until the scoring core lands.
enum ScoringPlaceholder {}
