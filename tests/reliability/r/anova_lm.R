# Sequential ANOVA table of lm(score ~ submission + reviewer) (R stats), on irr's anxiety
# with ratings deleted (unbalanced) and on a disconnected design.
# Run: Rscript anova_lm.R
library(irr)
cat("R", R.version$major, ".", R.version$minor, "\n", sep = "")
data(anxiety)
show <- function(name, long) {
  a <- anova(lm(score ~ factor(sub) + factor(rev), data = long))
  cat(sprintf('"%s": [\n', name))
  for (i in seq_len(nrow(a)))
    cat(sprintf("    (%d, %.17g, %.17g, %.17g, %.17g),\n", a$Df[i], a$`Sum Sq`[i],
                a$`Mean Sq`[i], a$`F value`[i], a$`Pr(>F)`[i]))
  cat("],\n")
}
to_long <- function(x) {
  long <- data.frame(sub = as.vector(row(x)), rev = as.vector(col(x)), score = as.vector(x))
  long[!is.na(long$score), ]
}
x <- as.matrix(anxiety)
show("anxiety", to_long(x))
x[cbind(c(2, 5, 9, 14, 17, 20, 3), c(1, 2, 3, 1, 2, 3, 3))] <- NA
show("anxiety_unbalanced", to_long(x))
# disconnected: units 1-10 rated by reviewers 1-3, units 11-20 by reviewers 4-6 (anxiety's
# three columns, the second half shifted by +1), a few ratings deleted
y <- matrix(NA, 20, 6)
y[1:10, 1:3] <- as.matrix(anxiety)[1:10, ]
y[11:20, 4:6] <- as.matrix(anxiety)[11:20, ] + 1
y[cbind(c(2, 7, 12, 15, 19), c(1, 3, 4, 6, 5))] <- NA
show("disconnected", to_long(y))
