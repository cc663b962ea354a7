# Reference values for tests/reliability/test_classification.py: Livingston-Lewis by R
# betafunctions (LL.CA) and Rudner by R cacIRT (Rud.P / class.Rud), on
#  1. betafunctions' own documented LL.CA example (data drawn here with R's RNG and saved),
#  2. cacIRT's own documented class.Rud example (4-item 1PL, 100 simulees),
#  3. the kit's synthetic program (tests/reliability/data/classification/kit_*.csv).
# Run from this folder: Rscript classification.R > classification.out
# (R 4.2.2; betafunctions 1.9.0 from github.com/hthaa/betafunctions, cacIRT 1.4 from
#  github.com/cran/cacIRT, installed with R CMD INSTALL; neither needs other packages.)
# It writes ../data/classification/expected.json and the example data CSVs.
suppressMessages({library(betafunctions); library(cacIRT)})
cat("R ", R.version$major, ".", R.version$minor, " betafunctions ",
    as.character(packageVersion("betafunctions")), " cacIRT ",
    as.character(packageVersion("cacIRT")), "\n", sep = "")
out <- "../data/classification/"
g <- function(v) sprintf("%.17g", v)
entries <- c()
add <- function(name, fields) {
  body <- paste(sprintf('"%s": %s', names(fields), sapply(fields, function(v)
    if (is.character(v)) sprintf('"%s"', v) else g(v))), collapse = ", ")
  entries <<- c(entries, sprintf('  "%s": {%s}', name, body))
}
ll <- function(name, x, rel, cut, min, max, model) {
  r <- suppressWarnings(LL.CA(x, reliability = rel, cut = cut, min = min, max = max,
                              true.model = model, modelfit = NULL))
  cm <- r$confusionmatrix; cc <- r$classification.consistency; p <- r$parameters
  etl <- p$etl; n <- round(etl); c <- (cut - min) / (max - min)
  cat(name, ": round(N c) =", round(n * c), " floor(N c) =", floor(n * c), "\n")
  print(r[c("parameters", "confusionmatrix", "classification.accuracy",
            "classification.consistency")])
  add(name, list(accuracy = r$classification.accuracy$Accuracy, consistency = cc$p,
                 kappa = cc$Kappa, chance = cc$p_c,
                 # LL.CA's confusion matrix calls a score below the cut "positive":
                 # confmat(tp = p.tf, tn = p.tp, fp = p.ff, fn = p.fp)
                 true_pass_observed_pass = cm["True", "Negative"],
                 true_fail_observed_fail = cm["True", "Positive"],
                 false_pass = cm["False", "Negative"], false_fail = cm["False", "Positive"],
                 etl = etl, l = p$l, u = p$u, alpha = p$alpha, beta = p$beta,
                 reliability = rel, cut = cut, min = min, max = max, true_model = model,
                 round_Nc = round(n * c), floor_Nc = floor(n * c)))
}
rud <- function(name, theta, se, cut) {
  r <- Rud.P(cut, theta, se)
  print(r$Marginal)
  acc <- r$Conditional$Accuracy[, 1]
  obs_pass <- theta >= cut
  add(name, list(accuracy = r$Marginal[1, "Accuracy"], consistency = r$Marginal[1, "Consistency"],
                 false_pass = sum((1 - acc)[obs_pass]) / length(theta),
                 false_fail = sum((1 - acc)[!obs_pass]) / length(theta), cut = cut))
}

# 1. betafunctions' LL.CA example (its help page, "Examples"): 1000 scores on 0..100,
#    reliability 0.7, cut 50.
set.seed(1234)
testdata <- rbinom(1000, 100, rBeta.4P(1000, 0.25, 0.75, 5, 3))
write.csv(data.frame(score = testdata), paste0(out, "betafunctions_example_scores.csv"), row.names = FALSE)
ll("betafunctions_example_4P", testdata, 0.7, 50, 0, 100, "4P")
ll("betafunctions_example_2P", testdata, 0.7, 50, 0, 100, "2P")
ll("betafunctions_example_4P_cut60", testdata, 0.7, 60, 0, 100, "4P")

# 2. cacIRT's class.Rud example (its help page): 4 items, 1PL, cut at theta = .5
set.seed(20150815)
params <- matrix(c(1, 1, 1, 1, -2, 1, 0, 1, 0, 0, 0, 0), 4, 3)
rdm <- sim(params, rnorm(100))
os <- MLE(rdm, params, 1.7); se <- SEM(params, os, 1.7)
write.csv(data.frame(theta = g(os), se = g(se)), paste0(out, "cacirt_example_measures.csv"), row.names = FALSE)
print(class.Rud(.5, params, rdm = rdm)$Marginal)  # the example as documented: same numbers
stopifnot(all.equal(class.Rud(.5, params, rdm = rdm)$Marginal, Rud.P(.5, os, se)$Marginal))
rud("cacirt_example", os, se, 0.5)

# 3. the kit's synthetic program (compensatory rubric, cut 13 of 5..20)
inputs <- read.table(paste0(out, "kit_inputs.txt"), row.names = 1)
kit <- read.csv(paste0(out, "kit_review_totals.csv"))$total
ll("kit_totals_4P", kit, inputs["reliability", 1], 13, 5, 20, "4P")
ll("kit_totals_2P", kit, inputs["reliability", 1], 13, 5, 20, "2P")
m <- read.csv(paste0(out, "kit_measures.csv"))
rud("kit_measures", m$theta, m$se, inputs["theta_cut", 1])

writeLines(c("{", paste(entries, collapse = ",\n"), "}"), paste0(out, "expected.json"))
