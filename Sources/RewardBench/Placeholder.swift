enum RewardBenchPlaceholder {}
