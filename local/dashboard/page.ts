/** The dashboard's page: a shell the script (`app.js`, from ui/dashboard/) fills; no asset from the network. */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ecr-automation dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/_dashboard/app.css">
<script defer src="/_dashboard/app.js"></script>
</head>
<body>
<noscript>The dashboard needs JavaScript; its JSON API is under /_dashboard/api/.</noscript>
<div id="app"></div>
</body>
</html>
`;
