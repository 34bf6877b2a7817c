# Installs the lipflap engine in its own virtual environment and the host plugins for this user.
#   powershell -ExecutionPolicy Bypass -File install\install.ps1 [-EnvDir DIR]
param([string]$EnvDir = "$env:USERPROFILE\.lipflap\venv")
$ErrorActionPreference = "Stop"
$here = Split-Path -Parent $PSScriptRoot
py -3.11 -m venv $EnvDir
& "$EnvDir\Scripts\python.exe" -m pip install --upgrade pip | Out-Null
& "$EnvDir\Scripts\python.exe" -m pip install $here
foreach ($hostName in @("resolve", "nuke")) {
  & "$EnvDir\Scripts\lipflap.exe" install $hostName
}
Write-Host "lipflap engine: $EnvDir\Scripts\lipflap.exe"
