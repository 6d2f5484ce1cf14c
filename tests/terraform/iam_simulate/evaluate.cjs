// Evaluates AWS IAM requests with @cloud-copilot/iam-simulate (identity policies, a resource
// policy, context keys; AWS's same-account evaluation logic). Reads a JSON list of simulations
// on stdin and prints one {"result", "explain"} per simulation. Used by tests/terraform/iam.py.
const { runSimulation } = require('@cloud-copilot/iam-simulate')

async function main() {
  let input = ''
  for await (const chunk of process.stdin) input += chunk
  const out = []
  for (const sim of JSON.parse(input)) {
    const found = await runSimulation(
      {
        request: sim.request,
        identityPolicies: sim.identityPolicies || [],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: sim.resourcePolicy,
      },
      {}
    )
    if (found.resultType === 'error') {
      out.push({ result: 'Error', explain: JSON.stringify(found.errors) })
    } else {
      out.push({ result: found.overallResult, explain: '' })
    }
  }
  process.stdout.write(JSON.stringify(out))
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err))
  process.exit(1)
})
