# Light's kappa of R irr on irr's diagnoses and anxiety, and the mean of irr's kappa2 over
# rater pairs on incomplete data (each pair on the units both rated).
# Run: Rscript kappam_light.R   (irr 0.84.1 from github.com/cran/irr, lpSolve 5.6.18)
library(irr)
cat("R", R.version$major, ".", R.version$minor, " irr ", as.character(packageVersion("irr")),
    "\n", sep = "")
data(diagnoses); data(anxiety)
# the copies in tests/reliability/data are these data (diagnoses as the numbers of its labels)
d <- read.csv("../data/fleiss1971_diagnoses_30x6/data_wide.csv")[, -1]
stopifnot(all(as.matrix(d) == sapply(diagnoses, function(v) as.integer(substr(as.character(v), 1, 1)))))
a <- read.csv("../data/irr_anxiety_20x3/data_wide.csv")[, -1]
stopifnot(all(as.matrix(a) == as.matrix(anxiety)))
show <- function(name, k) cat(sprintf('"%s": (%.17g, %.17g, %.17g),\n', name, k$value,
                                      k$statistic, k$p.value))
show("diagnoses", kappam.light(diagnoses))
show("anxiety", kappam.light(anxiety))
show("diagnoses_first3", kappam.light(diagnoses[, 1:3]))
show("anxiety_first2", kappam.light(anxiety[, 1:2]))
# each pair's kappa on diagnoses (rater i < j, row-major)
ks <- c()
for (i in 1:5) for (j in (i + 1):6) ks <- c(ks, kappa2(diagnoses[, c(i, j)])$value)
cat("diagnoses pairs:", sprintf("%.17g", ks), "\n")
# incomplete anxiety: some ratings deleted, and a fourth rater who rated units 1 and 2 only
# together with rater1 on unit 1 alone (so rater1-rater4 share 1 unit: not a counted pair)
x <- as.matrix(anxiety)
x[cbind(c(2, 5, 9, 14, 17, 20), c(1, 2, 3, 1, 2, 3))] <- NA
x <- cbind(x, rater4 = NA)
x[1, 4] <- 3; x[2, 4] <- 4
x[2, 1] <- NA  # already NA
pair <- function(i, j) {
  both <- !is.na(x[, i]) & !is.na(x[, j])
  c(shared = sum(both), kappa = if (sum(both) >= 2) kappa2(x[both, c(i, j)])$value else NA)
}
res <- t(sapply(list(c(1, 2), c(1, 3), c(1, 4), c(2, 3), c(2, 4), c(3, 4)),
                function(p) pair(p[1], p[2])))
print(res, digits = 17)
counted <- res[, "shared"] >= 2 & !is.na(res[, "kappa"])
cat(sprintf('"incomplete": %.17g  (mean over %d pairs)\n', mean(res[counted, "kappa"]),
            sum(counted)))
