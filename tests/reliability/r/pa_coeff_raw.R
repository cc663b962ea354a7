# Weighted percent agreement of R irrCAC on cac.raw4raters, every weighting, unrounded.
# Run: Rscript pa_coeff_raw.R <lib>   (<lib>: the library holding irrCAC 1.4 from
# github.com/kgwet/irrCAC, or "" for the CRAN irrCAC 1.0 installed by default)
# pa.coeff.raw rounds its SE (5 digits) and interval (3 digits); evaluating the function
# with round() as the identity gives the same numbers unrounded.
args <- commandArgs(trailingOnly = TRUE)
lib <- if (length(args) && nzchar(args[1])) args[1] else NULL
library(irrCAC, lib.loc = lib)
cat("R", R.version$major, ".", R.version$minor, " irrCAC ",
    as.character(packageVersion("irrCAC", lib.loc = lib)), "\n", sep = "")
wide <- read.csv("../data/irrcac_raw4raters/data_wide.csv")
stopifnot(all.equal(unname(as.matrix(wide[, -1])), unname(as.matrix(cac.raw4raters))))
pa <- pa.coeff.raw
environment(pa) <- list2env(list(round = function(x, digits = 0) x),
                            parent = asNamespace("irrCAC"))
custom <- matrix(c(1, .75, .5, .25, 0,  0, 1, .75, .5, .25,  .25, 0, 1, .75, .5,
                   .5, .25, 0, 1, .75,  .75, .5, .25, 0, 1), 5, byrow = TRUE)
weights <- list("unweighted", "linear", "quadratic", "ordinal", "radical", "ratio",
                "circular", "bipolar", custom)
names(weights) <- c("identity", "linear", "quadratic", "ordinal", "radical", "ratio",
                    "circular", "bipolar", "custom")
for (w in names(weights)) {
  e <- pa(cac.raw4raters, weights = weights[[w]])$est
  ci <- as.numeric(strsplit(gsub("[()]", "", e$conf.int), ",")[[1]])
  cat(sprintf('"%s": (%.17g, %.17g, %.17g, %.17g, %.17g),\n',
              w, e$coeff.val, e$coeff.se, ci[1], ci[2], e$p.value))
}
